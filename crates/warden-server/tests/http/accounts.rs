//! Sign-up with the password policy, sign-in with lockout, the current session and sign-out
//! (seed 001: US-AUTH-SESSION-DEV-005 lockout, DEV-006 password strength).

use serde_json::json;
use warden_core::Role;

use crate::support::*;

async fn sign_up(t: &T, email: &str, password: &str) -> Resp {
    t.browser()
        .post(
            "/api/auth/sign-up",
            json!({ "email": email, "password": password, "name": "Ana Lima" }),
        )
        .await
}

both!(sign_up_creates_an_account_that_can_sign_in, |t| async move {
    let r = sign_up(&t, "ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["user"]["email"], "ana@example.com");
    assert_eq!(r.body["user"]["role"], "user", "sign-up never grants a privileged role");
    assert_eq!(r.body["user"]["email_verified"], false);
    let b = t.browser();
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 200, "the new account signs in: {}", r.text);
    let created = b.get("/api/sessions/audit?type=user.created").await;
    assert_eq!(created.body["total"], 1, "{}", created.text);
    assert_eq!(
        created.body["events"][0]["ip"], "127.0.0.1",
        "the sign-up's audit event says where it came from"
    );
    let again = sign_up(&t, "ANA@example.com", PASSWORD).await;
    again.assert_error(409, "email_taken");
});

both!(password_strength_enforces_minimum_length, |t| async move {
    let r = sign_up(&t, "ana@example.com", "short pw 1").await;
    r.assert_error(400, "password_rejected");
    assert_eq!(r.body["field"], "password");
    assert!(
        r.body["message"].as_str().unwrap().contains("at least 12 characters"),
        "{}",
        r.text
    );
});

both!(password_strength_enforces_character_requirements, |t| async move {
    t.set_policy(&[
        ("password.require_uppercase", "true"),
        ("password.require_digit", "true"),
    ])
    .await;
    let r = sign_up(&t, "ana@example.com", "no capitals in here at all 7").await;
    r.assert_error(400, "password_rejected");
    assert!(r.body["message"].as_str().unwrap().contains("uppercase"), "{}", r.text);
    let r = sign_up(&t, "ana@example.com", "No Digits In Here At All").await;
    assert!(r.body["message"].as_str().unwrap().contains("digit"), "{}", r.text);
    let r = sign_up(&t, "ana@example.com", "Has Both Upper And 7 Digit").await;
    assert_eq!(r.status, 201, "a password meeting the rules is accepted: {}", r.text);
});

both!(password_strength_rejects_weak_common_passwords, |t| async move {
    let r = sign_up(&t, "ana@example.com", "password1234").await;
    r.assert_error(400, "password_rejected");
    assert!(r.body["message"].as_str().unwrap().contains("too common"), "{}", r.text);
    let r = sign_up(&t, "ana@example.com", "ana@example.com!!").await;
    r.assert_error(400, "password_rejected");
});

both!(sign_up_names_a_bad_email_or_name, |t| async move {
    let r = sign_up(&t, "not-an-email", PASSWORD).await;
    r.assert_error(400, "invalid_input");
    assert_eq!(r.body["field"], "email");
    let r = t
        .browser()
        .post(
            "/api/auth/sign-up",
            json!({ "email": "ana@example.com", "password": PASSWORD, "name": "  " }),
        )
        .await;
    r.assert_error(400, "invalid_input");
    assert_eq!(r.body["field"], "name");
});

both!(sign_in_sets_the_session_and_returns_it, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.browser();
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totp_required"], false);
    assert_eq!(r.body["session"]["is_current"], true);
    assert_eq!(r.body["session"]["auth_method"], "password");
    assert_eq!(r.body["user"]["email"], "ana@example.com");
    let csrf = r.body["csrf_token"].as_str().unwrap().to_owned();
    assert!(r.set_cookie("warden_session").is_some(), "the session cookie is set");
    let csrf_cookie = r.set_cookie("warden_csrf").unwrap();
    assert!(
        csrf_cookie.starts_with(&format!("warden_csrf={csrf};")),
        "the CSRF cookie holds the token: {csrf_cookie}"
    );
    let me = b.get("/api/auth/session").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["session"]["id"], r.body["session"]["id"]);
    assert_eq!(me.body["user"]["email"], "ana@example.com");
    assert!(
        me.body["user"].get("password_hash").is_none(),
        "no secret reaches the client"
    );
});

both!(unknown_email_answers_exactly_as_a_wrong_password, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let wrong = t.browser().sign_in("ana@example.com", WRONG_PASSWORD).await;
    let unknown = t.browser().sign_in("nobody@example.com", WRONG_PASSWORD).await;
    wrong.assert_error(401, "invalid_credentials");
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.text, wrong.text, "the bodies are byte for byte the same");
    assert!(unknown.set_cookie("warden_session").is_none() && wrong.set_cookie("warden_session").is_none());
});

both!(sign_out_ends_the_session, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let r = b.post("/api/auth/sign-out", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.set_cookie("warden_session").unwrap().contains("Max-Age=0"),
        "the cookie is cleared"
    );
    b.get("/api/auth/session").await.assert_error(401, "unauthenticated");
    b.post("/api/auth/sign-out", json!({}))
        .await
        .assert_error(401, "unauthenticated");
});

both!(current_session_without_a_cookie_is_401, |t| async move {
    t.browser()
        .get("/api/auth/session")
        .await
        .assert_error(401, "unauthenticated");
});

both!(lockout_threshold_is_configured_by_policy, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.set_policy(&[("lockout.threshold", "2")]).await;
    let b = t.browser();
    b.sign_in("ana@example.com", WRONG_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    b.sign_in("ana@example.com", WRONG_PASSWORD)
        .await
        .assert_error(429, "locked");
});

both!(lockout_locks_after_the_threshold, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.browser();
    for i in 1..5 {
        let r = b.sign_in("ana@example.com", WRONG_PASSWORD).await;
        r.assert_error(401, "invalid_credentials");
        assert!(r.headers.get("retry-after").is_none(), "attempt {i} is not locked yet");
    }
    b.sign_in("ana@example.com", WRONG_PASSWORD)
        .await
        .assert_error(429, "locked");
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    r.assert_error(429, "locked");
    assert!(
        r.set_cookie("warden_session").is_none(),
        "even the right password does not open a locked account"
    );
});

both!(lockout_answers_429_with_retry_after, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.set_policy(&[("lockout.threshold", "1"), ("lockout.duration", "10m")])
        .await;
    let b = t.browser();
    b.sign_in("ana@example.com", WRONG_PASSWORD).await;
    t.advance(4 * MINUTE);
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    r.assert_error(429, "locked");
    assert_eq!(r.headers["retry-after"], "360", "six of the ten minutes remain");
});

both!(lockout_unlocks_after_the_configured_time, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.set_policy(&[("lockout.threshold", "1"), ("lockout.duration", "10m")])
        .await;
    let b = t.browser();
    b.sign_in("ana@example.com", WRONG_PASSWORD)
        .await
        .assert_error(429, "locked");
    t.advance(10 * MINUTE - SECOND);
    b.sign_in("ana@example.com", PASSWORD).await.assert_error(429, "locked");
    t.advance(SECOND);
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 200, "the lock has run out: {}", r.text);
});

both!(
    lockout_permanent_after_repeated_locks_until_an_admin_unlocks,
    |t| async move {
        let id = t.user("ana@example.com", Role::User).await;
        t.set_policy(&[
            ("lockout.threshold", "1"),
            ("lockout.duration", "1m"),
            ("lockout.permanent_after", "2"),
        ])
        .await;
        let b = t.browser();
        b.sign_in("ana@example.com", WRONG_PASSWORD)
            .await
            .assert_error(429, "locked");
        t.advance(2 * MINUTE);
        let r = b.sign_in("ana@example.com", WRONG_PASSWORD).await;
        r.assert_error(429, "locked");
        assert!(
            r.headers.get("retry-after").is_none(),
            "a permanent lock has no retry time: {:?}",
            r.headers
        );
        t.advance(48 * HOUR);
        b.sign_in("ana@example.com", PASSWORD).await.assert_error(429, "locked");
        warden_core::ops::admin::unlock_user(&t.db, &t.cli(), t.now(), &id.to_string(), "verified by phone")
            .await
            .unwrap();
        assert_eq!(b.sign_in("ana@example.com", PASSWORD).await.status, 200);
    }
);

both!(
    disabled_accounts_and_unverified_emails_follow_the_policy,
    |t| async move {
        let r = sign_up(&t, "ana@example.com", PASSWORD).await;
        assert_eq!(r.status, 201);
        t.set_policy(&[("email_verification.required_for_sign_in", "true")])
            .await;
        t.browser()
            .sign_in("ana@example.com", PASSWORD)
            .await
            .assert_error(403, "email_not_verified");
        t.set_policy(&[("email_verification.required_for_sign_in", "false")])
            .await;
        assert_eq!(
            t.browser().sign_in("ana@example.com", PASSWORD).await.status,
            200,
            "the next request sees the change"
        );
    }
);

both!(
    lockout_answers_the_same_for_an_address_without_an_account,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let s = t
            .server_with(|_| {}, limits(|l| l.sign_in_per_account = per_minute(100)))
            .await;
        let b = Browser::new(&s.base, FIREFOX_LINUX);
        for i in 1..=6 {
            let real = b.sign_in("ana@example.com", WRONG_PASSWORD).await;
            let ghost = b.sign_in("nobody@example.com", WRONG_PASSWORD).await;
            assert_eq!(
                (real.status, &real.text, real.headers.get("retry-after")),
                (ghost.status, &ghost.text, ghost.headers.get("retry-after")),
                "failure {i}: status, body and Retry-After are the same"
            );
        }
        b.sign_in("nobody@example.com", WRONG_PASSWORD)
            .await
            .assert_error(429, "locked");
    }
);
