//! Step-up after a flag (seed 002.24): a session whose sign-in raised a flag that is still open, and
//! that has not authenticated again since, re-authenticates before it ends other sessions or changes
//! two-factor. Its own sign-out is always allowed; the user's other sessions, and staff acting on the
//! user, are never asked; a flag closed in review, or `detection.step_up = false`, asks nothing.

use serde_json::Value;
use warden_core::ops::auth;
use warden_core::ops::detection;
use warden_core::ops::flags::{self, FlagQuery, Resolution};
use warden_core::ops::sessions::{self, Authenticated, ClientInfo};
use warden_core::rules::totp;
use warden_core::{Role, Secret};

use crate::support::*;

/// A validated session of `email` opened from `country`, and its token.
async fn signed_in_from(t: &T, email: &str, country: &str) -> (Authenticated, Secret) {
    let (_, token) = t.sign_in_with(email, &from(country)).await;
    let me = t.validate(&token).await.expect("a live session");
    (me, token)
}

/// `email` signs in from Germany and, twenty minutes later, from Brazil: impossible travel flags the
/// Brazilian session. Returns the German and the Brazilian sessions, validated, and the latter's token.
async fn germany_then_brazil(t: &T, email: &str) -> (Authenticated, Authenticated, Secret) {
    let (de, _) = signed_in_from(t, email, "DE").await;
    t.advance(20 * MINUTE);
    let (br, token) = signed_in_from(t, email, "BR").await;
    (de, br, token)
}

async fn reauthenticate(t: &T, me: &Authenticated, code: Option<&str>) {
    auth::reauthenticate(
        &t.db,
        t.now(),
        Some(&t.key),
        me,
        &Secret::new(PASSWORD),
        code,
        &ClientInfo::default(),
    )
    .await
    .expect("the right password re-authenticates");
}

/// The metadata of the one failed audit event of `action`, which must be a refusal for step-up.
async fn refused(t: &T, action: &str) -> Value {
    let ev: Vec<_> = t
        .audit_action(action)
        .await
        .into_iter()
        .filter(|e| e.status == "failure")
        .collect();
    assert_eq!(ev.len(), 1, "one refused {action}: {ev:?}");
    let meta: Value = serde_json::from_str(&ev[0].metadata).unwrap();
    assert_eq!(meta["error"], "reauth_required", "{action}: {meta}");
    assert_eq!(
        meta["step_up"],
        serde_json::json!(["impossible_travel"]),
        "{action}: {meta}"
    );
    meta
}

both!(
    a_flagged_session_must_re_authenticate_before_ending_other_sessions_or_enrolling_two_factor,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let (de, br, br_token) = germany_then_brazil(&t, "ana@example.com").await;
        assert_eq!(
            detection::step_up_due(&t.db, &br.session).await.unwrap(),
            ["impossible_travel"],
            "the Brazilian session must step up"
        );
        assert!(
            detection::step_up_due(&t.db, &de.session).await.unwrap().is_empty(),
            "the German sign-in raised nothing"
        );
        let e = assert_code(
            sessions::revoke_others(&t.db, t.now(), &br).await,
            "reauth_required",
            "ending the other sessions",
        );
        assert!(
            e.to_string().contains("flagged as unusual (impossible travel)"),
            "the message says why: {e}"
        );
        assert_code(
            sessions::revoke_own(&t.db, t.now(), &br, de.session.id).await,
            "reauth_required",
            "ending another session",
        );
        assert_code(
            auth::totp_begin(
                &t.db,
                t.now(),
                &t.key,
                &br,
                &Secret::new(PASSWORD),
                "Warden",
                &ClientInfo::default(),
            )
            .await,
            "reauth_required",
            "enrolling two-factor",
        );
        assert!(
            t.session(de.session.id).await.revoked_at.is_none(),
            "the German session lives on"
        );
        let row = t.user_row(ana).await;
        assert!(row.totp_secret.is_none(), "no secret was stored");
        assert_eq!(row.failed_count, 0, "a refusal is no failed sign-in");
        refused(&t, "session.others_revoked").await;
        let meta = refused(&t, "session.revoked").await;
        assert_eq!(meta["by"], "owner");
        assert_eq!(
            t.audit_action("session.revoked").await[0].target_session_id,
            Some(de.session.id)
        );
        refused(&t, "user.totp_enabled").await;

        t.advance(MINUTE);
        reauthenticate(&t, &br, None).await;
        let br = t.validate(&br_token).await.unwrap();
        assert!(detection::step_up_due(&t.db, &br.session).await.unwrap().is_empty());
        assert_eq!(
            sessions::revoke_others(&t.db, t.now(), &br).await.unwrap(),
            1,
            "after re-authenticating, the German session can be ended"
        );
        auth::totp_begin(
            &t.db,
            t.now(),
            &t.key,
            &br,
            &Secret::new(PASSWORD),
            "Warden",
            &ClientInfo::default(),
        )
        .await
        .expect("and two-factor enrolled");
    }
);

both!(
    a_flagged_session_must_re_authenticate_before_confirming_or_switching_off_two_factor,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let (de, _) = signed_in_from(&t, "ana@example.com", "DE").await;
        let (secret, _) = crate::totp::enrol_through(&t, &de).await;
        t.advance(20 * MINUTE);
        let challenge = match t.try_sign_in("ana@example.com", PASSWORD, &from("BR")).await {
            Ok(auth::SignIn::TotpRequired { challenge }) => challenge,
            other => panic!("a second step, got {other:?}"),
        };
        let (_, token) = auth::sign_in_totp(
            &t.db,
            t.now(),
            &t.key,
            &challenge,
            &totp::code_at(&secret, t.now()),
            &from("BR"),
        )
        .await
        .expect("the code completes the sign-in");
        let br = t.validate(&token).await.unwrap();
        t.advance(30 * SECOND);
        assert_code(
            auth::totp_disable(
                &t.db,
                t.now(),
                &t.key,
                &br,
                &totp::code_at(&secret, t.now()),
                &ClientInfo::default(),
            )
            .await,
            "reauth_required",
            "switching two-factor off",
        );
        assert!(t.user_row(ana).await.totp_enabled_at.is_some(), "two-factor stays on");
        refused(&t, "user.totp_disabled").await;
        reauthenticate(&t, &br, Some(&totp::code_at(&secret, t.now()))).await;
        t.advance(30 * SECOND);
        let br = t.validate(&token).await.unwrap();
        auth::totp_disable(
            &t.db,
            t.now(),
            &t.key,
            &br,
            &totp::code_at(&secret, t.now()),
            &ClientInfo::default(),
        )
        .await
        .expect("after re-authenticating, two-factor can be switched off");

        // An enrolment begun by an unflagged session is not confirmed through a flagged one either.
        t.advance(3 * HOUR);
        let (de, _) = signed_in_from(&t, "ana@example.com", "DE").await;
        let pending = auth::totp_begin(
            &t.db,
            t.now(),
            &t.key,
            &de,
            &Secret::new(PASSWORD),
            "Warden",
            &ClientInfo::default(),
        )
        .await
        .expect("the unflagged session begins an enrolment");
        t.advance(MINUTE);
        let (br, _) = signed_in_from(&t, "ana@example.com", "BR").await;
        let pending = totp::secret_from_base32(pending.secret_base32.expose()).unwrap();
        assert_code(
            auth::totp_confirm(&t.db, t.now(), &t.key, &br, &totp::code_at(&pending, t.now())).await,
            "reauth_required",
            "confirming an enrolment",
        );
        refused(&t, "user.totp_enabled").await;
    }
);

both!(
    signing_out_and_the_users_other_sessions_are_never_asked,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let (de, br, _) = germany_then_brazil(&t, "ana@example.com").await;
        sessions::revoke_own(&t.db, t.now(), &de, br.session.id)
            .await
            .expect("the owner at home ends the stranger's session without a step-up");
        let (_, br, _) = germany_then_brazil(&t, "ana@example.com").await;
        sessions::sign_out(&t.db, t.now(), &br)
            .await
            .expect("a flagged session may always sign out");
        let (_, br, _) = germany_then_brazil(&t, "ana@example.com").await;
        sessions::revoke_own(&t.db, t.now(), &br, br.session.id)
            .await
            .expect("ending the current session by its id is signing out");
        assert!(
            t.audit(Default::default())
                .await
                .iter()
                .all(|e| e.status == "success" || e.action == "auth.sign_in_failed"),
            "nothing was refused"
        );
    }
);

both!(
    staff_acting_on_the_user_are_never_asked_even_through_a_flagged_session,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        t.user("desk@example.com", Role::Support).await;
        germany_then_brazil(&t, "ana@example.com").await;
        let (_, desk_br, _) = germany_then_brazil(&t, "desk@example.com").await;
        assert!(
            !detection::step_up_due(&t.db, &desk_br.session)
                .await
                .unwrap()
                .is_empty(),
            "the agent's own sign-in was flagged"
        );
        let staff = desk_br.staff().unwrap();
        let n = warden_core::ops::admin::revoke_user_sessions(&t.db, &staff, t.now(), "ana@example.com", "phished")
            .await
            .expect("support ends a user's sessions, the flagged one included");
        assert_eq!(n, 2);
        let n = warden_core::ops::admin::revoke_user_sessions(&t.db, &t.cli(), t.now(), "desk@example.com", "x")
            .await
            .expect("the CLI ends the agent's sessions");
        assert_eq!(n, 2);
    }
);

both!(a_flag_closed_in_review_asks_nothing_more, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let (_, br, _) = germany_then_brazil(&t, "ana@example.com").await;
    let support = t.support_actor().await;
    let open = flags::page(
        &t.db,
        &support,
        &FlagQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(open.flags.len(), 1);
    flags::resolve(
        &t.db,
        &support,
        t.now(),
        open.flags[0].id,
        Resolution::Dismissed,
        "she is on holiday",
    )
    .await
    .unwrap();
    assert!(detection::step_up_due(&t.db, &br.session).await.unwrap().is_empty());
    assert_eq!(sessions::revoke_others(&t.db, t.now(), &br).await.unwrap(), 1);
});

both!(step_up_follows_the_policy, |t| async move {
    t.set_policy(&[("detection.step_up", "false")]).await;
    t.user("ana@example.com", Role::User).await;
    let (_, br, _) = germany_then_brazil(&t, "ana@example.com").await;
    assert_eq!(
        t.audit_action("session.flagged").await.len(),
        1,
        "the sign-in is flagged for review all the same"
    );
    assert!(detection::step_up_due(&t.db, &br.session).await.unwrap().is_empty());
    t.set_policy(&[("detection.step_up", "true")]).await;
    assert_eq!(
        detection::step_up_due(&t.db, &br.session).await.unwrap(),
        ["impossible_travel"],
        "switched on, it asks of every session whose flag is still open"
    );
    t.set_policy(&[("detection.step_up", "false")]).await;
    assert_eq!(sessions::revoke_others(&t.db, t.now(), &br).await.unwrap(), 1);
});
