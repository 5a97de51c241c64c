//! Cookies and CSRF (seed 001: US-AUTH-SESSION-DEV-002).

use serde_json::json;
use warden_core::Role;

use crate::support::*;

both!(secure_cookie_uses_http_only_for_the_session, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let r = t.browser().sign_in("ana@example.com", PASSWORD).await;
    let session = r.set_cookie("warden_session").unwrap();
    assert!(session.contains("; HttpOnly"), "{session}");
    assert!(session.contains("; Path=/"), "{session}");
    let csrf = r.set_cookie("warden_csrf").unwrap();
    assert!(
        !csrf.contains("HttpOnly"),
        "the page's script must read the CSRF cookie: {csrf}"
    );
    assert!(!session.contains("Secure"), "--dev serves plain HTTP: {session}");
});

both!(secure_cookie_uses_the_secure_flag_in_production, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let prod = t
        .server_with(
            |a| {
                a.dev = false;
                a.origins = vec!["https://app.example.com".into()];
                a.cookie_domain = Some("example.com".into());
                a.cookie_path = Some("/app".into());
            },
            limits(|_| {}),
        )
        .await;
    let r = read(
        reqwest::Client::new()
            .post(format!("{}/api/auth/sign-in", prod.base))
            .header("origin", "https://app.example.com")
            .json(&json!({ "email": "ana@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for name in ["warden_session", "warden_csrf"] {
        let c = r.set_cookie(name).unwrap();
        assert!(c.contains("; Secure"), "{c}");
        assert!(c.contains("; Domain=example.com"), "the configured domain: {c}");
        assert!(c.contains("; Path=/app"), "the configured path: {c}");
    }
});

both!(secure_cookie_sets_same_site, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let r = t.browser().sign_in("ana@example.com", PASSWORD).await;
    for name in ["warden_session", "warden_csrf"] {
        assert!(r.set_cookie(name).unwrap().contains("; SameSite=Lax"), "{name}");
    }
});

both!(csrf_validates_the_token_on_mutations, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let other = t.signed_in("ana@example.com").await;
    let other_id = other.session_id().await;
    let token = b.csrf.lock().unwrap().take();
    b.delete(&format!("/api/sessions/{other_id}"))
        .await
        .assert_error(403, "csrf_token_invalid");
    *b.csrf.lock().unwrap() = Some("0".repeat(40));
    b.delete(&format!("/api/sessions/{other_id}"))
        .await
        .assert_error(403, "csrf_token_invalid");
    // Another session's token does not fit this one.
    *b.csrf.lock().unwrap() = other.csrf.lock().unwrap().clone();
    b.post("/api/auth/sign-out", json!({}))
        .await
        .assert_error(403, "csrf_token_invalid");
    assert_eq!(other.get("/api/sessions").await.status, 200, "nothing was revoked");
    *b.csrf.lock().unwrap() = token;
    assert_eq!(
        b.delete(&format!("/api/sessions/{other_id}")).await.status,
        200,
        "with its own token it works"
    );
    assert_eq!(b.get("/api/sessions").await.status, 200, "reads need no token");
});

both!(csrf_refuses_mutations_from_other_origins, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let evil = b
        .send(
            b.http
                .post(b.url("/api/auth/sign-out"))
                .header("origin", "https://evil.example")
                .json(&json!({})),
        )
        .await;
    evil.assert_error(403, "origin_not_allowed");
    let r = read(
        reqwest::Client::new()
            .post(format!("{}/api/auth/sign-in", t.server.base))
            .json(&json!({ "email": "ana@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(403, "origin_not_allowed");
    assert_eq!(b.get("/api/auth/session").await.status, 200, "the session survived");
});
