//! Suspicious sign-ins raise flags in the sign-in's own transaction, and the review queue closes them.

use uuid::Uuid;
use warden_core::ops::flags::{self, FlagQuery, Resolution};
use warden_core::Role;

use warden_core::model::authz::Staff;

use crate::support::*;

/// The emails of the users with (true) or without (false) an open flag.
async fn flagged(t: &T, actor: &Staff, with: bool) -> Vec<String> {
    let q = warden_core::ops::admin::UserQuery {
        flagged: Some(with),
        limit: 100,
        ..Default::default()
    };
    let page = warden_core::ops::admin::users_page(&t.db, actor, &q, t.now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    page.users.into_iter().map(|u| u.user.email).collect()
}

async fn open_flags(t: &T, actor: &Staff) -> Vec<flags::FlagView> {
    flags::page(
        &t.db,
        actor,
        &FlagQuery {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .flags
}

both!(impossible_travel_is_flagged_with_its_audit_event, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let support = t.support_actor().await;
    let (de, _) = t.sign_in_with("ana@example.com", &from("DE")).await;
    assert!(
        open_flags(&t, &support).await.is_empty(),
        "a first sign-in raises nothing"
    );
    t.advance(30 * MINUTE);
    let (br, _) = t.sign_in_with("ana@example.com", &from("BR")).await;
    let open = open_flags(&t, &support).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let f = &open[0];
    assert_eq!(
        (f.rule.as_str(), f.severity.as_str(), f.status.as_str()),
        ("impossible_travel", "high", "open")
    );
    assert_eq!(
        f.session_id,
        Some(br.id),
        "the flag names the new session, not {}",
        de.id
    );
    assert_eq!(f.user_email, "ana@example.com");
    assert_eq!(f.detail, "signed in from BR 30 min after activity from DE");
    let ev = t.audit_action("session.flagged").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].target_session_id, Some(br.id));
    let meta: serde_json::Value = serde_json::from_str(&ev[0].metadata).unwrap();
    assert_eq!(meta["flag_id"], f.id.to_string());
});

both!(a_new_country_and_a_success_after_failures_are_flagged, |t| async move {
    t.set_policy(&[("lockout.threshold", "50"), ("detection.failures_before_success", "4")])
        .await;
    t.user("ana@example.com", Role::User).await;
    let support = t.support_actor().await;
    t.sign_in_with("ana@example.com", &from("DE")).await;
    t.advance(DAY);
    t.sign_in_with("ana@example.com", &from("FR")).await;
    let open = open_flags(&t, &support).await;
    assert_eq!(
        open.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
        ["new_country"]
    );
    t.advance(DAY);
    for _ in 0..4 {
        let _ = t.try_sign_in("ana@example.com", WRONG_PASSWORD, &from("DE")).await;
    }
    t.sign_in_with("ana@example.com", &from("DE")).await;
    let open = open_flags(&t, &support).await;
    assert_eq!(open[0].rule, "success_after_failures", "newest first: {open:?}");
    assert_eq!(open[0].detail, "signed in after 4 failed attempts from 1 address(es)");
    t.advance(MINUTE);
    t.sign_in_with("ana@example.com", &from("DE")).await;
    assert_eq!(
        open_flags(&t, &support).await.len(),
        2,
        "failures before the last success count once"
    );
});

both!(detection_follows_the_policy, |t| async move {
    t.set_policy(&[
        ("detection.impossible_travel", "false"),
        ("detection.new_country", "false"),
    ])
    .await;
    t.user("ana@example.com", Role::User).await;
    t.sign_in_with("ana@example.com", &from("DE")).await;
    t.advance(MINUTE);
    t.sign_in_with("ana@example.com", &from("BR")).await;
    assert!(open_flags(&t, &t.support_actor().await).await.is_empty());
    let e = err(
        warden_core::ops::policy::set(
            &t.db,
            &t.cli(),
            t.now(),
            &[("detection.rapid_sign_ins".into(), "1".into())],
            "tests",
        )
        .await,
        "one sign-in is no burst",
    );
    assert_eq!(
        (e.code(), e.field()),
        ("policy_invalid", Some("detection.rapid_sign_ins"))
    );
});

both!(
    flags_are_closed_once_with_a_reason_by_support_or_admins,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        t.sign_in_with("ana@example.com", &from("DE")).await;
        t.advance(MINUTE);
        t.sign_in_with("ana@example.com", &from("BR")).await;
        let support = t.support_actor().await;
        let id = open_flags(&t, &support).await[0].id;
        let before = warden_core::ops::overview::overview(&t.db, &support, t.now())
            .await
            .unwrap();
        assert_eq!(before.open_flags, 1, "the overview counts the open flag");
        assert_eq!(
            flagged(&t, &support, true).await,
            vec!["ana@example.com"],
            "the users filter finds her"
        );
        assert!(!flagged(&t, &support, false)
            .await
            .contains(&"ana@example.com".to_owned()));
        assert_code(
            flags::resolve(&t.db, &support, t.now(), id, Resolution::Actioned, " ").await,
            "invalid_input",
            "a reason is required",
        );
        let user = t.staff_for(ana, "ana@example.com", Role::User);
        assert_code(
            flags::resolve(&t.db, &user, t.now(), id, Resolution::Dismissed, "mine").await,
            "forbidden",
            "users do not review flags",
        );
        assert_code(
            flags::page(
                &t.db,
                &user,
                &FlagQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await,
            "forbidden",
            "nor read them",
        );
        let closed = flags::resolve(&t.db, &support, t.now(), id, Resolution::Actioned, "ended the session")
            .await
            .unwrap();
        assert_eq!(closed.status, "actioned");
        assert_eq!(closed.resolved_by.as_deref(), Some(support.actor().label.as_str()));
        assert!(open_flags(&t, &support).await.is_empty());
        let after = warden_core::ops::overview::overview(&t.db, &support, t.now())
            .await
            .unwrap();
        assert_eq!(after.open_flags, 0, "and no longer once it is closed");
        assert!(
            flagged(&t, &support, true).await.is_empty(),
            "a closed flag does not count"
        );
        assert!(
            after.admin_actions.iter().any(|e| e.action == "flag.actioned"),
            "closing a flag is among the latest admin actions"
        );
        let all = flags::page(
            &t.db,
            &support,
            &FlagQuery {
                status: Some("all".into()),
                user: Some("ana@example.com".into()),
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
        assert_eq!((all.flags.len(), all.open), (1, 0));
        assert_code(
            flags::resolve(&t.db, &support, t.now(), id, Resolution::Dismissed, "again").await,
            "flag_not_found",
            "a closed flag cannot be closed again",
        );
        assert_code(
            flags::resolve(&t.db, &support, t.now(), Uuid::now_v7(), Resolution::Dismissed, "x").await,
            "flag_not_found",
            "nor an unknown one",
        );
        let ev = t.audit_action("flag.actioned").await;
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].reason.as_deref(), Some("ended the session"));
        let e = err(
            flags::page(
                &t.db,
                &support,
                &FlagQuery {
                    status: Some("closed".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await,
            "unknown status",
        );
        assert_eq!(e.field(), Some("status"));
    }
);
