//! Two-factor: enrolment, the second sign-in step, backup codes, the data key and admin reset.

use uuid::Uuid;
use warden_core::ops::admin;
use warden_core::ops::auth::{self, SignIn};
use warden_core::ops::sessions::{Authenticated, ClientInfo};
use warden_core::rules::totp::{self, DataKey};
use warden_core::{Role, Secret};

use crate::support::*;

/// Enrols `id` in two-factor through a session of its own; returns the secret and the backup codes.
pub(crate) async fn enrol(t: &T, id: Uuid) -> (Vec<u8>, Vec<String>) {
    let me = session_of(t, &t.user_row(id).await.email).await;
    enrol_through(t, &me).await
}

/// Enrols the holder of `me` in two-factor; returns the secret and the backup codes.
pub(crate) async fn enrol_through(t: &T, me: &Authenticated) -> (Vec<u8>, Vec<String>) {
    let enrollment = auth::totp_begin(
        &t.db,
        t.now(),
        &t.key,
        me,
        &Secret::new(PASSWORD),
        "Warden",
        &ClientInfo::default(),
    )
    .await
    .expect("begin enrolment");
    let secret = totp::secret_from_base32(enrollment.secret_base32.expose()).unwrap();
    let code = totp::code_at(&secret, t.now());
    let activated = auth::totp_confirm(&t.db, t.now(), &t.key, me, &code)
        .await
        .expect("confirm with a valid code");
    (secret, activated.backup_codes)
}

/// A validated session of `email`, signed in with the password alone.
async fn session_of(t: &T, email: &str) -> Authenticated {
    let (_, token) = t.sign_in(email).await;
    t.validate(&token).await.expect("a live session")
}

async fn challenge(t: &T, email: &str) -> Secret {
    match t.try_sign_in(email, PASSWORD, &ClientInfo::default()).await {
        Ok(SignIn::TotpRequired { challenge }) => challenge,
        other => panic!("a user with two-factor must get a challenge, got {other:?}"),
    }
}

/// A 6-digit code that is none of the codes valid around `now`.
fn wrong_code(secret: &[u8], now: i64) -> String {
    let valid: Vec<String> = [-30_000, 0, 30_000]
        .iter()
        .map(|d| totp::code_at(secret, now + d))
        .collect();
    (0..10)
        .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
        .find(|c| !valid.contains(c))
        .unwrap()
}

both!(enrolled_user_needs_a_code_and_a_code_works_once, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let (secret, codes) = enrol(&t, uid).await;
    assert_eq!(codes.len(), 10, "ten backup codes are shown once");
    assert_eq!(
        t.audit_action("user.totp_enabled").await.len(),
        1,
        "enrolment is audited"
    );
    assert!(warden_core::rules::lockout::user_view(&t.user_row(uid).await, t.now()).totp_enabled);
    t.advance(30 * SECOND);
    let c = challenge(&t, "ana@example.com").await;
    let code = totp::code_at(&secret, t.now());
    let (session, token) = auth::sign_in_totp(&t.db, t.now(), &t.key, &c, &code, &ClientInfo::default())
        .await
        .expect("the current code completes the sign-in");
    assert_eq!(session.auth_method, "password+totp");
    t.validate(&token).await.expect("the session is valid");
    // The same code again, in the same step, with a fresh challenge.
    let c2 = challenge(&t, "ana@example.com").await;
    assert_code(
        auth::sign_in_totp(&t.db, t.now(), &t.key, &c2, &code, &ClientInfo::default()).await,
        "invalid_totp",
        "a code must not be accepted twice",
    );
    assert_code(
        auth::sign_in_totp(
            &t.db,
            t.now(),
            &t.key,
            &c,
            &totp::code_at(&secret, t.now() + 30_000),
            &ClientInfo::default(),
        )
        .await,
        "invalid_token",
        "a challenge is used up by its sign-in",
    );
});

both!(wrong_totp_codes_count_toward_lockout, |t| async move {
    t.set_policy(&[("lockout.threshold", "3")]).await;
    let uid = t.user("ana@example.com", Role::User).await;
    let (secret, _) = enrol(&t, uid).await;
    t.advance(30 * SECOND);
    let c = challenge(&t, "ana@example.com").await;
    let bad = wrong_code(&secret, t.now());
    for _ in 0..2 {
        assert_code(
            auth::sign_in_totp(&t.db, t.now(), &t.key, &c, &bad, &ClientInfo::default()).await,
            "invalid_totp",
            "a wrong code",
        );
    }
    assert_eq!(
        t.user_row(uid).await.failed_count,
        2,
        "wrong codes are counted like wrong passwords"
    );
    assert_eq!(t.login_attempts().await.last().unwrap().1, "bad_totp");
    assert_code(
        auth::sign_in_totp(&t.db, t.now(), &t.key, &c, &bad, &ClientInfo::default()).await,
        "locked",
        "the third wrong code reaches the threshold",
    );
    let good = totp::code_at(&secret, t.now());
    assert_code(
        auth::sign_in_totp(&t.db, t.now(), &t.key, &c, &good, &ClientInfo::default()).await,
        "locked",
        "a locked account refuses even the right code",
    );
});

both!(backup_code_works_once, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let (_, codes) = enrol(&t, uid).await;
    let c = challenge(&t, "ana@example.com").await;
    let (session, _) = auth::sign_in_totp(
        &t.db,
        t.now(),
        &t.key,
        &c,
        &codes[3].to_uppercase(),
        &ClientInfo::default(),
    )
    .await
    .expect("a backup code (in any case) completes the sign-in");
    assert_eq!(session.auth_method, "backup_code");
    let c2 = challenge(&t, "ana@example.com").await;
    assert_code(
        auth::sign_in_totp(&t.db, t.now(), &t.key, &c2, &codes[3], &ClientInfo::default()).await,
        "invalid_totp",
        "a backup code is single-use",
    );
    auth::sign_in_totp(&t.db, t.now(), &t.key, &c2, &codes[4], &ClientInfo::default())
        .await
        .expect("another code still works");
});

both!(wrong_data_key_is_refused, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let (secret, _) = enrol(&t, uid).await;
    t.advance(30 * SECOND);
    let c = challenge(&t, "ana@example.com").await;
    let other = DataKey::generate();
    assert_code(
        auth::sign_in_totp(
            &t.db,
            t.now(),
            &other,
            &c,
            &totp::code_at(&secret, t.now()),
            &ClientInfo::default(),
        )
        .await,
        "data_key_invalid",
        "a data key other than the database's must be refused clearly",
    );
    assert_code(
        auth::check_key(&t.db, &other).await,
        "data_key_invalid",
        "the fingerprint check refuses it",
    );
    let bob = t.user("bob@example.com", Role::User).await;
    let bob_me = session_of(&t, "bob@example.com").await;
    assert_code(
        auth::totp_begin(
            &t.db,
            t.now(),
            &other,
            &bob_me,
            &Secret::new(PASSWORD),
            "Warden",
            &ClientInfo::default(),
        )
        .await,
        "data_key_invalid",
        "nothing is sealed with a wrong key",
    );
    assert!(t.user_row(bob).await.totp_secret.is_none());
    auth::sign_in_totp(
        &t.db,
        t.now(),
        &t.key,
        &c,
        &totp::code_at(&secret, t.now()),
        &ClientInfo::default(),
    )
    .await
    .expect("the right key still works");
});

both!(support_resets_two_factor, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    enrol(&t, uid).await;
    let support = t.support_actor().await;
    let view = admin::reset_totp(&t.db, &support, t.now(), "ana@example.com", "lost phone")
        .await
        .unwrap();
    assert!(!view.totp_enabled, "two-factor is off after a reset");
    let row = t.user_row(uid).await;
    assert!(row.totp_secret.is_none(), "the secret is deleted");
    assert_eq!(
        t.count("SELECT count(*) FROM backup_codes").await,
        0,
        "the backup codes are deleted"
    );
    assert!(
        matches!(
            t.try_sign_in("ana@example.com", PASSWORD, &ClientInfo::default()).await,
            Ok(SignIn::Complete { .. })
        ),
        "the password alone signs in again"
    );
    let ev = t.audit_action("user.totp_reset").await;
    assert_eq!(ev.len(), 1, "the reset is audited");
    assert_eq!(ev[0].reason.as_deref(), Some("lost phone"));
    assert_eq!(ev[0].actor_label, "helpdesk@example.com");
    assert_eq!(ev[0].target_user_id, Some(uid));
    enrol(&t, uid).await;
});

both!(disabling_two_factor_needs_a_fresh_valid_code, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let me = session_of(&t, "ana@example.com").await;
    let (secret, _) = enrol_through(&t, &me).await;
    let wrong = wrong_code(&secret, t.now());
    assert_eq!(
        auth::totp_disable(&t.db, t.now(), &t.key, &me, &wrong, &ClientInfo::default())
            .await
            .unwrap_err()
            .code(),
        "invalid_totp",
        "a wrong code must not switch the second factor off"
    );
    let used = totp::code_at(&secret, t.now());
    assert_eq!(
        auth::totp_disable(&t.db, t.now(), &t.key, &me, &used, &ClientInfo::default())
            .await
            .unwrap_err()
            .code(),
        "invalid_totp",
        "the code that confirmed enrolment is spent and cannot be replayed"
    );
    t.advance(30 * SECOND);
    auth::totp_disable(
        &t.db,
        t.now(),
        &t.key,
        &me,
        &totp::code_at(&secret, t.now()),
        &ClientInfo::default(),
    )
    .await
    .expect("a fresh code disables");
    let row = t.user_row(uid).await;
    assert!(
        row.totp_enabled_at.is_none() && row.totp_secret.is_none(),
        "secret and flag are gone"
    );
    assert_eq!(
        t.count("SELECT count(*) FROM backup_codes").await,
        0,
        "backup codes are gone"
    );
    assert_eq!(
        t.audit_action("user.totp_disabled").await.len(),
        1,
        "disabling is audited"
    );
    assert_eq!(
        auth::totp_disable(&t.db, t.now(), &t.key, &me, "123456", &ClientInfo::default())
            .await
            .unwrap_err()
            .code(),
        "totp_not_enabled"
    );
});

both!(
    guessing_the_code_to_switch_two_factor_off_locks_the_account,
    |t| async move {
        t.set_policy(&[("lockout.threshold", "3")]).await;
        let uid = t.user("ana@example.com", Role::User).await;
        let me = session_of(&t, "ana@example.com").await;
        let (secret, _) = enrol_through(&t, &me).await;
        t.advance(30 * SECOND);
        let none = ClientInfo::default();
        for i in 1..3 {
            assert_code(
                auth::totp_disable(&t.db, t.now(), &t.key, &me, &wrong_code(&secret, t.now()), &none).await,
                "invalid_totp",
                &format!("wrong code {i}"),
            );
        }
        assert_code(
            auth::totp_disable(&t.db, t.now(), &t.key, &me, &wrong_code(&secret, t.now()), &none).await,
            "locked",
            "the third wrong code locks the account, as three wrong passwords would",
        );
        assert_code(
            auth::totp_disable(&t.db, t.now(), &t.key, &me, &totp::code_at(&secret, t.now()), &none).await,
            "locked",
            "while locked, not even the right code switches it off",
        );
        assert!(t.user_row(uid).await.totp_enabled_at.is_some(), "two-factor stays on");
    }
);

both!(enrolling_needs_the_password_and_a_wrong_one_counts, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let me = session_of(&t, "ana@example.com").await;
    let none = ClientInfo::default();
    assert_code(
        auth::totp_begin(
            &t.db,
            t.now(),
            &t.key,
            &me,
            &Secret::new(WRONG_PASSWORD),
            "Warden",
            &none,
        )
        .await,
        "invalid_credentials",
        "a session alone cannot enrol an authenticator",
    );
    let row = t.user_row(uid).await;
    assert!(row.totp_secret.is_none(), "nothing was stored");
    assert_eq!(
        warden_core::rules::lockout::state_of(&row).failed_count,
        1,
        "the wrong password counts toward lockout"
    );
});

both!(
    the_auth_method_filter_takes_exactly_the_methods_the_engine_records,
    |t| async move {
        let admin = t.admin_actor().await;
        let uid = t.user("ana@example.com", Role::User).await;
        let (_, backup) = enrol(&t, uid).await;
        let challenge = challenge(&t, "ana@example.com").await;
        let (session, _) = auth::sign_in_totp(&t.db, t.now(), &t.key, &challenge, &backup[0], &ClientInfo::default())
            .await
            .expect("a backup code signs in");
        let page = |method: &str| {
            let q = warden_core::ops::admin::SessionQuery {
                filter: warden_core::model::session_filter::SessionFilter {
                    auth_method: Some(method.into()),
                    ..Default::default()
                },
                limit: 50,
                ..Default::default()
            };
            let (db, admin, now) = (t.db.clone(), admin.clone(), t.now());
            async move { admin::sessions_page(&db, &admin, &q, now).await }
        };
        for method in warden_core::model::vocab::AuthMethod::ALL {
            let found = page(method.as_str())
                .await
                .expect("a method the engine records is a valid filter");
            let ids: Vec<_> = found.sessions.iter().map(|s| s.view.session.id).collect();
            assert_eq!(
                ids.contains(&session.id),
                session.auth_method == method.as_str(),
                "filtering on {method} finds the backup-code session exactly when that is its method"
            );
        }
        // What the console used to offer for it: not a method, so a clear error rather than an empty list.
        let e = err(page("password+backup_code").await, "a method the engine never records");
        assert_eq!(e.field(), Some("auth_method"));
        assert!(
            e.to_string().contains("backup_code"),
            "the error lists the methods: {e}"
        );
    }
);
