//! The hash-chained audit log: what is recorded, the database's refusal to edit it, verification and
//! tamper detection, concurrent appends, and the filtered, paged listing.

use std::collections::BTreeSet;
use std::sync::Arc;

use warden_core::model::audit::Record;
use warden_core::model::authz::{Actor, Admin};
use warden_core::model::vocab::AuditAction;
use warden_core::ops::admin;
use warden_core::ops::audit::{self, AuditFilter, Status};
use warden_core::ops::sessions::ClientInfo;
use warden_core::store::Backend;
use warden_core::Role;

use crate::support::*;

async fn verify(t: &T) -> audit::Verification {
    audit::verify(&t.db, &t.cli(), t.now(), |_, _| {})
        .await
        .expect("verify runs")
}

/// Drops the trigger refusing UPDATE (and, on PostgreSQL, DELETE) of audit events.
async fn drop_update_trigger(t: &T) {
    let sql = match t.backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
        Backend::Postgres => "DROP TRIGGER audit_events_no_update ON audit_events",
    };
    t.exec(sql).await.expect(sql);
}

async fn drop_delete_trigger(t: &T) {
    let sql = match t.backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_delete",
        Backend::Postgres => "DROP TRIGGER audit_events_no_update ON audit_events",
    };
    t.exec(sql).await.expect(sql);
}

both!(every_state_change_leaves_its_event, |t| async move {
    t.set_policy(&[("lockout.threshold", "2")]).await;
    let admin = t.admin_actor().await;
    let uid = t.user("ana@example.com", Role::User).await;
    let (s, _) = t.sign_in("ana@example.com").await;
    admin::revoke_session(&t.db, &admin, t.now(), s.id, "suspicious")
        .await
        .unwrap();
    for _ in 0..2 {
        let _ = t
            .try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
            .await;
    }
    admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", "verified")
        .await
        .unwrap();
    t.sign_in("ana@example.com").await;
    admin::revoke_user_sessions(&t.db, &admin, t.now(), "ana@example.com", "offboarding")
        .await
        .unwrap();
    let about_ana: Vec<(String, String, Option<String>)> = t
        .audit(AuditFilter {
            target_user: Some(uid),
            ..Default::default()
        })
        .await
        .into_iter()
        .map(|e| (e.action, e.actor_label, e.reason))
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        about_ana,
        vec![
            (s("user.created"), s("ana@example.com"), None),
            (s("auth.signed_in"), s("ana@example.com"), None),
            (s("session.revoked"), s("root@example.com"), Some(s("suspicious"))),
            (s("auth.sign_in_failed"), s("ana@example.com"), None),
            (s("auth.sign_in_failed"), s("ana@example.com"), None),
            (s("user.locked"), s("warden"), None),
            (s("user.unlocked"), s("root@example.com"), Some(s("verified"))),
            (s("auth.signed_in"), s("ana@example.com"), None),
            (
                s("user.sessions_revoked"),
                s("root@example.com"),
                Some(s("offboarding"))
            ),
        ],
        "each change about Ana is audited, in order, with its actor and reason"
    );
    let policy = t.audit_action("policy.updated").await;
    assert_eq!(policy.len(), 2, "both policy changes are audited");
    assert_eq!(policy[1].reason.as_deref(), Some("tests"), "the note is the reason");
    assert_eq!(policy[1].actor_kind, "cli");
});

both!(verify_walks_a_healthy_chain_and_is_audited, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sign_in("ana@example.com").await;
    let n = t.count("SELECT count(*) FROM audit_events").await;
    assert!(n >= 3);
    let mut calls = 0;
    let v = audit::verify(&t.db, &t.cli(), t.now(), |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .await
    .unwrap();
    assert!(v.is_intact(), "a chain nobody touched is intact: {v:?}");
    assert_eq!(v.events_verified, n, "every event is checked");
    assert_eq!(v.head_seq, n);
    assert!(calls >= 1, "progress is reported");
    let ev = t.audit_action("audit.verified").await;
    assert_eq!(ev.len(), 1, "verification is itself audited");
    assert_eq!(ev[0].seq, n + 1);
    assert_eq!(ev[0].status, "success");
    let again = verify(&t).await;
    assert!(again.is_intact());
    assert_eq!(
        again.events_verified,
        n + 1,
        "the audit.verified event is part of the chain"
    );
    let support = t.support_actor().await;
    assert_code(
        audit::verify(&t.db, &Admin::for_tests(support.actor().clone()), t.now(), |_, _| {}).await,
        "forbidden",
        "support may not verify the log",
    );
});

both!(database_refuses_update_and_delete_of_audit_events, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let before = t.audit(AuditFilter::default()).await;
    assert!(
        t.exec("UPDATE audit_events SET reason = 'edited' WHERE seq = 1")
            .await
            .is_err(),
        "UPDATE must be refused"
    );
    assert!(
        t.exec("DELETE FROM audit_events WHERE seq = 1").await.is_err(),
        "DELETE must be refused"
    );
    assert!(
        t.exec("DELETE FROM audit_events").await.is_err(),
        "DELETE of everything must be refused"
    );
    assert_eq!(
        t.audit(AuditFilter::default()).await,
        before,
        "the events are unchanged"
    );
    if t.backend == Backend::Postgres {
        assert!(
            t.exec("TRUNCATE audit_events").await.is_err(),
            "TRUNCATE must be refused"
        );
    }
    assert!(verify(&t).await.is_intact());
});

both!(verify_names_the_tampered_event, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    let (s, _) = t.sign_in("ana@example.com").await;
    admin::revoke_session(&t.db, &admin, t.now(), s.id, "original reason")
        .await
        .unwrap();
    t.sign_in("ana@example.com").await;
    let target = t.audit_action("session.revoked").await[0].seq;
    drop_update_trigger(&t).await;
    let changed = t
        .exec(&format!(
            "UPDATE audit_events SET reason = 'innocent reason' WHERE seq = {target}"
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let v = verify(&t).await;
    assert_eq!(v.broken_at, Some(target), "verify must name the altered event: {v:?}");
    assert_eq!(v.events_verified, target - 1, "the events before it verify");
    let ev = t.audit_action("audit.verified").await;
    assert_eq!(
        ev.last().unwrap().status,
        "failure",
        "a failed verification is audited as a failure"
    );
    assert!(ev.last().unwrap().metadata.contains(&format!("\"broken_at\":{target}")));
});

both!(verify_detects_a_removed_tail, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sign_in("ana@example.com").await;
    let n = t.count("SELECT count(*) FROM audit_events").await;
    drop_delete_trigger(&t).await;
    let removed = t
        .exec(&format!("DELETE FROM audit_events WHERE seq = {n}"))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let v = verify(&t).await;
    assert!(
        !v.is_intact(),
        "a cut-off tail must be detected against the head: {v:?}"
    );
    assert_eq!(v.broken_at, Some(n), "the chain is short from the removed event on");
    assert_eq!(v.events_verified, n - 1);
    assert_eq!(v.head_seq, n, "the head still records the removed event");
    assert!(
        v.detail.unwrap().contains("removed"),
        "the detail says events were removed"
    );
});

both!(verify_detects_a_removed_middle_event, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sign_in("ana@example.com").await;
    t.sign_in("ana@example.com").await;
    drop_delete_trigger(&t).await;
    t.exec("DELETE FROM audit_events WHERE seq = 2").await.unwrap();
    assert_eq!(verify(&t).await.broken_at, Some(2), "a gap is named at the missing seq");
});

both!(concurrent_appends_keep_a_gapless_chain, |t| async move {
    let t = Arc::new(t);
    let before = t.count("SELECT count(*) FROM audit_events").await;
    let mut tasks = Vec::new();
    for task in 0..8 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::cli(t.now());
            for i in 0..10 {
                let meta = serde_json::json!({ "task": task, "i": i });
                warden_core::store::audit::append_alone(
                    &t.db,
                    t.now(),
                    &actor,
                    Record::new(AuditAction::AuditExported).meta(meta),
                )
                .await
                .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = t.audit(AuditFilter::default()).await;
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=before + 80).collect::<Vec<_>>(),
        "80 appends leave seqs 1..=n with no gap or duplicate"
    );
    let pairs: BTreeSet<String> = t
        .audit_action("audit.exported")
        .await
        .into_iter()
        .map(|e| e.metadata)
        .collect();
    assert_eq!(pairs.len(), 80, "every append is there once");
    let v = verify(&t).await;
    assert!(v.is_intact(), "concurrent appends must keep the chain linear: {v:?}");
    assert_eq!(v.events_verified, before + 80);
});

/// Events for the filter tests: a few actions by different actors at different times.
async fn seed(t: &T) -> (uuid::Uuid, i64, i64) {
    t.admin_actor().await;
    let ana = t.user("ana@example.com", Role::User).await;
    let (s, _) = t.sign_in("ana@example.com").await;
    t.advance(HOUR);
    let mid = t.now();
    let _ = t
        .try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
        .await;
    // A fresh authentication: privileged actions need one newer than privileged.reauth_after.
    admin::revoke_session(
        &t.db,
        &*t.admin_actor().await,
        t.now(),
        s.id,
        "token leaked in a ticket",
    )
    .await
    .unwrap();
    t.advance(HOUR);
    let late = t.now();
    t.user("bob@example.com", Role::User).await;
    t.sign_in("bob@example.com").await;
    (ana, mid, late)
}

both!(audit_list_filters, |t| async move {
    let (ana, mid, late) = seed(&t).await;
    let admin = t.admin_actor().await;
    let list = |f: AuditFilter| {
        let (db, admin) = (t.db.clone(), admin.clone());
        async move { audit::list(&db, &admin, &f, None, 500).await.unwrap().events }
    };
    let actions = |evs: &[audit::AuditEvent]| evs.iter().map(|e| e.action.clone()).collect::<Vec<_>>();

    let exact = list(AuditFilter {
        action: Some("session.revoked".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(actions(&exact), vec!["session.revoked"], "an exact action");
    let prefix = list(AuditFilter {
        action: Some("auth.".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        actions(&prefix),
        vec!["auth.signed_in", "auth.sign_in_failed", "auth.signed_in"],
        "a prefix ending in a dot matches the group, newest first"
    );
    assert!(
        list(AuditFilter {
            action: Some("auth".into()),
            ..Default::default()
        })
        .await
        .is_empty(),
        "without the dot the action is exact"
    );
    let failures = list(AuditFilter {
        status: Some(Status::Failure),
        ..Default::default()
    })
    .await;
    assert_eq!(actions(&failures), vec!["auth.sign_in_failed"], "status filter");
    let by_root = list(AuditFilter {
        actor: Some("root@example".into()),
        ..Default::default()
    })
    .await;
    assert!(
        !by_root.is_empty() && by_root.iter().all(|e| e.actor_label == "root@example.com"),
        "actor substring: {:?}",
        actions(&by_root)
    );
    assert!(by_root.iter().any(|e| e.action == "session.revoked"));
    let by_id = list(AuditFilter {
        actor: Some(admin.actor().id.unwrap().to_string()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        actions(&by_id),
        actions(&by_root),
        "an actor id matches the same events as its label"
    );
    let about_ana = list(AuditFilter {
        target_user: Some(ana),
        ..Default::default()
    })
    .await;
    assert!(about_ana.iter().all(|e| e.target_user_id == Some(ana)));
    assert_eq!(
        actions(&about_ana),
        vec![
            "session.revoked",
            "auth.sign_in_failed",
            "auth.signed_in",
            "user.created"
        ],
        "target user"
    );
    let window = list(AuditFilter {
        from: Some(mid),
        to: Some(late),
        ..Default::default()
    })
    .await;
    assert_eq!(
        actions(&window),
        vec!["session.revoked", "auth.sign_in_failed"],
        "the time range [from, to)"
    );
    let reason = list(AuditFilter {
        reason: Some("leaked".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(actions(&reason), vec!["session.revoked"], "reason text search");
    let combined = list(AuditFilter {
        target_user: Some(ana),
        action: Some("auth.".into()),
        status: Some(Status::Success),
        ..Default::default()
    })
    .await;
    assert_eq!(actions(&combined), vec!["auth.signed_in"], "filters combine with AND");
    let user = t.staff_for(ana, "ana@example.com", Role::User);
    assert_code(
        audit::list(&t.db, &user, &AuditFilter::default(), None, 10).await,
        "forbidden",
        "a user may not read the log",
    );
});

both!(audit_paging_returns_every_event_once, |t| async move {
    seed(&t).await;
    let admin = t.admin_actor().await;
    let all = audit::list(&t.db, &admin, &AuditFilter::default(), None, 500)
        .await
        .unwrap();
    assert!(all.next_cursor.is_none());
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = audit::list(&t.db, &admin, &AuditFilter::default(), before, 3)
            .await
            .unwrap();
        assert!(page.events.len() <= 3);
        seen.extend(page.events.iter().map(|e| e.seq));
        match page.next_cursor {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    let expected: Vec<i64> = all.events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seen, expected,
        "pages of 3 return every event exactly once, newest first"
    );
});

both!(audit_page_size_is_bounded, |t| async move {
    let admin = t.admin_actor().await;
    for limit in [0, 501, 100_000] {
        let e = assert_code(
            audit::list(&t.db, &admin, &AuditFilter::default(), None, limit).await,
            "invalid_input",
            "a page size outside 1..=500",
        );
        assert_eq!(e.field(), Some("limit"), "the error names the limit");
    }
    audit::list(&t.db, &admin, &AuditFilter::default(), None, 500)
        .await
        .expect("500 is allowed");
});
