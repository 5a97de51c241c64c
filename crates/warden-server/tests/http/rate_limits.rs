//! Rate limits on sign-in, sign-up and verification email, per IP and per account.

use serde_json::json;
use warden_core::Role;

use crate::support::*;

both!(sign_in_is_rate_limited_per_account, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let s = t
        .server_with(|_| {}, limits(|l| l.sign_in_per_account = per_minute(2)))
        .await;
    let from = |ip: &str| Browser::with_headers(&s.base, FIREFOX_LINUX, &[("x-forwarded-for", ip)]);
    assert_eq!(
        from("203.0.113.1").sign_in("ana@example.com", PASSWORD).await.status,
        200
    );
    assert_eq!(
        from("203.0.113.2").sign_in("ANA@example.com", PASSWORD).await.status,
        200
    );
    let r = from("203.0.113.3").sign_in("ana@example.com", PASSWORD).await;
    r.assert_error(429, "rate_limited");
    assert_eq!(r.headers["retry-after"], "60");
    assert_eq!(
        from("203.0.113.3").sign_in("bob@example.com", PASSWORD).await.status,
        401,
        "other accounts are not held up"
    );
    t.advance(MINUTE);
    assert_eq!(
        from("203.0.113.3").sign_in("ana@example.com", PASSWORD).await.status,
        200,
        "the window has passed"
    );
});

both!(sign_in_is_rate_limited_per_ip, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let s = t
        .server_with(|_| {}, limits(|l| l.sign_in_per_ip = per_minute(3)))
        .await;
    let b = Browser::with_headers(&s.base, FIREFOX_LINUX, &[("x-forwarded-for", "198.51.100.9")]);
    for i in 0..3 {
        b.sign_in(&format!("guess{i}@example.com"), PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
    }
    t.advance(20 * SECOND);
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    r.assert_error(429, "rate_limited");
    assert_eq!(r.headers["retry-after"], "40");
    let other = Browser::with_headers(&s.base, FIREFOX_LINUX, &[("x-forwarded-for", "198.51.100.10")]);
    assert_eq!(
        other.sign_in("ana@example.com", PASSWORD).await.status,
        200,
        "another IP has its own budget"
    );
});

both!(sign_up_is_rate_limited_per_account, |t| async move {
    let s = t
        .server_with(|_| {}, limits(|l| l.sign_up_per_account = per_minute(2)))
        .await;
    let from = |ip: &str| Browser::with_headers(&s.base, FIREFOX_LINUX, &[("x-forwarded-for", ip)]);
    let body = json!({ "email": "ana@example.com", "password": PASSWORD, "name": "Ana" });
    assert_eq!(
        from("203.0.113.1").post("/api/auth/sign-up", body.clone()).await.status,
        201
    );
    from("203.0.113.2")
        .post("/api/auth/sign-up", body.clone())
        .await
        .assert_error(409, "email_taken");
    let r = from("203.0.113.3").post("/api/auth/sign-up", body).await;
    r.assert_error(429, "rate_limited");
    assert_eq!(
        r.headers["retry-after"], "60",
        "asking about one address from many is bounded"
    );
});

both!(sign_up_is_rate_limited_per_ip, |t| async move {
    let s = t
        .server_with(|_| {}, limits(|l| l.sign_up_per_ip = per_minute(1)))
        .await;
    let b = Browser::new(&s.base, FIREFOX_LINUX);
    let body = |e: &str| json!({ "email": e, "password": PASSWORD, "name": "Ana" });
    assert_eq!(b.post("/api/auth/sign-up", body("a@example.com")).await.status, 201);
    let r = b.post("/api/auth/sign-up", body("b@example.com")).await;
    r.assert_error(429, "rate_limited");
    assert!(r.headers.get("retry-after").is_some());
});

both!(verification_email_is_rate_limited_per_account_and_ip, |t| async move {
    let s = t
        .server_with(
            |_| {},
            limits(|l| {
                l.verification_per_account = per_minute(1);
                l.verification_per_ip = per_minute(2);
            }),
        )
        .await;
    let b = Browser::new(&s.base, FIREFOX_LINUX);
    let ask = |e: &'static str| b.post("/api/auth/verification-email", json!({ "email": e }));
    assert_eq!(ask("a@example.com").await.status, 202);
    ask("a@example.com").await.assert_error(429, "rate_limited");
    assert_eq!(ask("b@example.com").await.status, 202);
    ask("c@example.com").await.assert_error(429, "rate_limited");
});

both!(revoking_sessions_is_rate_limited_per_account, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    let s = t
        .server_with(|_| {}, limits(|l| l.revocations_per_account = per_minute(2)))
        .await;
    let ana = Browser::new(&s.base, FIREFOX_LINUX);
    ana.sign_in("ana@example.com", PASSWORD).await;
    for _ in 0..2 {
        let r = ana.delete(&format!("/api/sessions/{}", uuid::Uuid::now_v7())).await;
        r.assert_error(404, "session_not_found");
    }
    let r = ana.delete("/api/sessions?scope=others").await;
    r.assert_error(429, "rate_limited");
    assert_eq!(r.headers["retry-after"], "60");
    assert_eq!(ana.get("/api/sessions").await.status, 200, "reading is not limited");
    let bob = Browser::new(&s.base, FIREFOX_LINUX);
    bob.sign_in("bob@example.com", PASSWORD).await;
    assert_eq!(
        bob.delete("/api/sessions?scope=others").await.status,
        200,
        "other accounts are not held up"
    );
    t.advance(MINUTE);
    assert_eq!(ana.delete("/api/sessions?scope=others").await.status, 200);
});
