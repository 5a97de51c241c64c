//! Sign-in with email and password.

use warden_core::ops::audit::Status;
use warden_core::ops::auth::{self, SignIn};
use warden_core::ops::sessions::ClientInfo;
use warden_core::{Role, Secret};

use crate::support::*;

fn from_ip(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.into()),
        ..Default::default()
    }
}

both!(correct_password_opens_a_session_and_is_recorded, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let r = t
        .try_sign_in("  Ana@Example.COM ", PASSWORD, &from_ip("198.51.100.1"))
        .await;
    let Ok(SignIn::Complete { session, .. }) = r else {
        panic!("the email is matched case-insensitively: {r:?}")
    };
    assert_eq!(session.user_id, uid);
    assert_eq!(session.auth_method, "password");
    assert_eq!(
        t.login_attempts().await,
        vec![("ana@example.com".into(), "success".into(), Some(uid))]
    );
    let ev = t.audit_action("auth.signed_in").await;
    assert_eq!(ev.len(), 1, "a sign-in is audited");
    assert_eq!(ev[0].actor_id, Some(uid), "the user is the actor of their sign-in");
    assert_eq!(ev[0].target_session_id, Some(session.id));
    assert_eq!(
        ev[0].ip.as_deref(),
        Some("198.51.100.1"),
        "the client's address is audited"
    );
    assert_eq!(
        t.user_row(uid).await.last_active_at,
        Some(t.now()),
        "a sign-in is activity"
    );
});

both!(wrong_password_is_invalid_credentials, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    assert_code(
        t.try_sign_in("ana@example.com", WRONG_PASSWORD, &from_ip("198.51.100.1"))
            .await,
        "invalid_credentials",
        "a wrong password",
    );
    assert_eq!(
        t.login_attempts().await,
        vec![("ana@example.com".into(), "bad_password".into(), Some(uid))]
    );
    let row = t.user_row(uid).await;
    assert_eq!(row.failed_count, 1, "the failure is counted");
    assert_eq!(row.last_failed_ip.as_deref(), Some("198.51.100.1"));
    let ev = t.audit_action("auth.sign_in_failed").await;
    assert_eq!(ev.len(), 1, "a failed sign-in is audited");
    assert_eq!(ev[0].status, Status::Failure.as_str());
    assert_eq!(ev[0].target_user_id, Some(uid));
    assert_eq!(
        t.count("SELECT count(*) FROM sessions").await,
        0,
        "no session for a wrong password"
    );
});

both!(unknown_email_answers_exactly_like_a_wrong_password, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let wrong = err(
        t.try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
            .await,
        "wrong password",
    );
    let unknown = err(
        t.try_sign_in("nobody@example.com", PASSWORD, &ClientInfo::default())
            .await,
        "unknown email",
    );
    assert_eq!(
        unknown.to_payload(),
        wrong.to_payload(),
        "an unknown email must be indistinguishable from a wrong password"
    );
    assert_eq!(unknown.code(), "invalid_credentials");
    let attempts = t.login_attempts().await;
    assert_eq!(
        attempts[1],
        ("nobody@example.com".into(), "unknown_user".into(), None),
        "the attempt is recorded"
    );
    let ev = t.audit_action("auth.sign_in_failed").await;
    assert_eq!(ev.len(), 2);
    assert!(ev[1].metadata.contains("unknown_user"), "{}", ev[1].metadata);
    assert_eq!(ev[1].target_user_id, None);
    // Not even an email: still the same answer.
    let garbage = err(
        t.try_sign_in("not an email", PASSWORD, &ClientInfo::default()).await,
        "garbage email",
    );
    assert_eq!(garbage.to_payload(), wrong.to_payload());
});

both!(success_resets_the_failure_count, |t| async move {
    t.set_policy(&[("lockout.threshold", "3")]).await;
    let uid = t.user("ana@example.com", Role::User).await;
    for _ in 0..2 {
        assert_code(
            t.try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
                .await,
            "invalid_credentials",
            "",
        );
    }
    t.sign_in("ana@example.com").await;
    assert_eq!(
        t.user_row(uid).await.failed_count,
        0,
        "a successful sign-in starts the count over"
    );
    for _ in 0..2 {
        assert_code(
            t.try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
                .await,
            "invalid_credentials",
            "two failures after a success must not reach a threshold of 3",
        );
    }
    t.sign_in("ana@example.com").await;
});

both!(disabled_account_cannot_sign_in, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let (_, token) = t.sign_in("ana@example.com").await;
    warden_core::with_db!(&t.db, |p| sqlx::query(
        "UPDATE users SET disabled_at = $2 WHERE id = $1"
    )
    .bind(uid)
    .bind(t.now())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    assert_code(
        t.try_sign_in("ana@example.com", PASSWORD, &ClientInfo::default()).await,
        "account_disabled",
        "a disabled account with the right password",
    );
    assert_code(
        t.validate(&token).await,
        "unauthenticated",
        "a disabled user's sessions stop validating",
    );
});

both!(
    look_alike_accounts_are_refused_and_emails_are_normalized,
    |t| async move {
        t.user("admin@example.com", Role::SecurityAdmin).await;
        let try_add = |email: &'static str, name: &'static str| {
            let db = t.db.clone();
            let now = t.now();
            async move {
                auth::sign_up(
                    &db,
                    now,
                    &auth::NewAccount {
                        email,
                        name,
                        password: &Secret::new(PASSWORD),
                        role: Role::User,
                        verified: false,
                        ip: None,
                    },
                )
                .await
            }
        };
        for (email, name, field) in [
            ("admin\u{200B}@example.com", "Admin", "email"),
            ("admin@example.com\u{202E}", "Admin", "email"),
            ("\u{FEFF}admin@example.com", "Admin", "email"),
            ("ana@example.com", "Ana\u{200D}", "name"),
            ("ana@example.com", "\u{202E}anA", "name"),
            ("ana@example.com", "\u{3164}", "name"),
            ("ana@example.com", "  ", "name"),
        ] {
            let e = assert_code(try_add(email, name).await, "invalid_input", "an invisible character");
            assert_eq!(e.field(), Some(field), "{email:?} {name:?}: {e}");
        }
        // Full-width letters are the same letters: the address is the existing one.
        assert_code(
            try_add("ＡＤＭＩＮ@example.com", "Admin").await,
            "email_taken",
            "NFKC and case make it admin@example.com",
        );
        let id = try_add("Ｒｉｖｅｒ@Example.com", "River").await.expect("a new account");
        assert_eq!(t.user_row(id).await.email, "river@example.com");
        // And sign-in finds it however it is typed.
        t.try_sign_in("ｒｉｖｅｒ@example.com", PASSWORD, &ClientInfo::default())
            .await
            .expect("the normalized address signs in");
    }
);
