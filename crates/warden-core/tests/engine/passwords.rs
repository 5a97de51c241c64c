//! Sign-up and the password policy.

use warden_core::ops::auth;
use warden_core::ops::sessions::ClientInfo;
use warden_core::{Role, Secret};

use crate::support::*;

async fn sign_up(t: &T, email: &str, pw: &str) -> Result<uuid::Uuid, warden_core::Error> {
    auth::sign_up(
        &t.db,
        t.now(),
        &auth::NewAccount {
            email,
            name: "Ana Lima",
            password: &Secret::new(pw),
            role: Role::User,
            verified: false,
            ip: None,
        },
    )
    .await
}

both!(sign_up_rejects_weak_passwords_and_taken_emails, |t| async move {
    let e = assert_code(
        sign_up(&t, "ana@example.com", "short").await,
        "password_rejected",
        "below min_length (12)",
    );
    assert_eq!(e.field(), Some("password"), "the error names the password field");
    assert!(e.to_string().contains("at least 12"), "the rule is named: {e}");
    let e = assert_code(
        sign_up(&t, "ana@example.com", "qwertyuiopasdfghjkl").await,
        "password_rejected",
        "a leaked password",
    );
    assert_eq!(e.field(), Some("password"));
    assert_code(
        sign_up(&t, "ana@example.com", "greetings from lima 2026").await,
        "password_rejected",
        "a password containing the name",
    );
    assert_eq!(
        t.count("SELECT count(*) FROM users").await,
        0,
        "nothing is created for a rejected password"
    );
    sign_up(&t, "ana@example.com", PASSWORD).await.expect("a good password");
    assert_code(
        sign_up(&t, "ana@example.com", PASSWORD).await,
        "email_taken",
        "the same email twice",
    );
    assert_code(
        sign_up(&t, "  ANA@Example.com", PASSWORD).await,
        "email_taken",
        "emails are compared normalized",
    );
    assert_eq!(t.count("SELECT count(*) FROM users").await, 1);
    assert_eq!(
        t.audit_action("user.created").await.len(),
        1,
        "only the created account is audited"
    );
    assert_code(
        sign_up(&t, "not-an-email", PASSWORD).await,
        "invalid_input",
        "a malformed email",
    );
});

both!(password_policy_changes_apply_to_new_passwords, |t| async move {
    t.set_policy(&[("password.min_length", "20"), ("password.require_digit", "true")])
        .await;
    assert_code(
        sign_up(&t, "ana@example.com", "fifteen chars ok").await,
        "password_rejected",
        "below the new min_length",
    );
    assert_code(
        sign_up(&t, "ana@example.com", "twenty characters long!").await,
        "password_rejected",
        "require_digit applies",
    );
    sign_up(&t, "ana@example.com", PASSWORD)
        .await
        .expect("a long password with a digit");
});

both!(
    a_new_hash_cost_reaches_each_account_at_its_next_sign_in,
    |t| async move {
        let id = t.user("ana@example.com", Role::User).await;
        let before = t.user_row(id).await.password_hash;
        assert!(before.contains("m=8192,t=1"), "{before}");
        t.set_policy(&[("password.argon2_iterations", "2")]).await;
        assert_eq!(
            t.user_row(id).await.password_hash,
            before,
            "saving the policy rewrites no hash"
        );
        assert_code(
            t.try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
                .await,
            "invalid_credentials",
            "a wrong password changes nothing",
        );
        assert_eq!(t.user_row(id).await.password_hash, before);
        t.sign_in("ana@example.com").await;
        let after = t.user_row(id).await.password_hash;
        assert!(after.contains("m=8192,t=2"), "re-hashed at the policy's cost: {after}");
        t.sign_in("ana@example.com").await;
        assert_eq!(t.user_row(id).await.password_hash, after, "and only once");
    }
);
