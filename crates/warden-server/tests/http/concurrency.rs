//! The HTTP door under concurrency and across processes: who may end a staff account's sessions, limits
//! per account on the codes that prove an account, a bound on password checks, and rate limits that
//! hold across every server on one database.

use serde_json::json;
use warden_core::Role;

use crate::support::*;

both!(support_cannot_end_a_security_admins_sessions, |t| async move {
    let root = t.user("root@example.com", Role::SecurityAdmin).await;
    t.user("help@example.com", Role::Support).await;
    let admin = t.signed_in("root@example.com").await;
    let support = t.signed_in("help@example.com").await;
    let r = support
        .post(
            &format!("/api/admin/users/{root}/revoke-sessions"),
            json!({ "reason": "asked to" }),
        )
        .await;
    r.assert_error(403, "forbidden");
    assert!(
        r.body["message"].as_str().unwrap().contains("only a security admin"),
        "{}",
        r.text
    );
    assert_eq!(
        admin.get("/api/auth/session").await.status,
        200,
        "the security admin is still signed in"
    );
});

/// A browser that passed the password step of a two-factor account and holds its challenge cookie.
async fn at_second_step(base: &str, ip: &str) -> Browser {
    let b = Browser::with_headers(base, FIREFOX_LINUX, &[("x-forwarded-for", ip)]);
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(r.body["totp_required"], true, "{}", r.text);
    b
}

async fn enrolled(t: &T) -> String {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    crate::two_factor::enrol(t, &b).await.0
}

both!(
    the_second_step_is_limited_per_account_across_addresses,
    |t| async move {
        enrolled(&t).await;
        let s = t
            .server_with(
                |_| {},
                limits(|l| {
                    l.second_factor_per_account = per_minute(3);
                }),
            )
            .await;
        // Each guess from another address: the per-address budget never runs out, the account's does.
        for i in 0..3 {
            let b = at_second_step(&s.base, &format!("203.0.113.{i}")).await;
            b.post("/api/auth/sign-in/totp", json!({ "code": "000000" }))
                .await
                .assert_error(401, "invalid_totp");
        }
        let b = at_second_step(&s.base, "203.0.113.99").await;
        let r = b.post("/api/auth/sign-in/totp", json!({ "code": "000000" })).await;
        r.assert_error(429, "rate_limited");
        assert!(r.headers.contains_key("retry-after"));
    }
);

both!(enrolling_two_factor_is_limited_per_account, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let s = t
        .server_with(|_| {}, limits(|l| l.second_factor_per_account = per_minute(2)))
        .await;
    let b = Browser::new(&s.base, FIREFOX_LINUX);
    assert_eq!(b.sign_in("ana@example.com", PASSWORD).await.status, 200);
    for _ in 0..2 {
        b.post("/api/auth/two-factor/enable", json!({ "password": WRONG_PASSWORD }))
            .await
            .assert_error(400, "invalid_credentials");
    }
    b.post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await
        .assert_error(429, "rate_limited");
});

both!(
    a_burst_of_sign_ins_gets_503_with_retry_after_and_sessions_still_answer,
    |t| async move {
        for i in 0..24 {
            t.user(&format!("u{i}@example.com"), Role::User).await;
        }
        let s = t
            .server_with(
                |a| {
                    a.hash_concurrency = Some(1);
                    a.hash_wait_ms = Some(1);
                },
                limits(|l| l.sign_in_per_ip = per_minute(1000)),
            )
            .await;
        let reader = Browser::new(&s.base, FIREFOX_LINUX);
        assert_eq!(reader.sign_in("u0@example.com", PASSWORD).await.status, 200);
        let burst: Vec<_> = (1..24)
            .map(|i| {
                let base = s.base.clone();
                tokio::spawn(async move {
                    Browser::new(&base, FIREFOX_LINUX)
                        .sign_in(&format!("u{i}@example.com"), PASSWORD)
                        .await
                })
            })
            .collect();
        // While the burst runs, the same server answers session checks: they take no password check.
        let r = reader.get("/api/auth/session").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let mut busy = 0;
        let mut signed_in = 0;
        for b in burst {
            let r = b.await.unwrap();
            match r.status {
                200 => signed_in += 1,
                503 => {
                    r.assert_error(503, "overloaded");
                    assert_eq!(r.headers["retry-after"], "1", "told when to come back");
                    busy += 1;
                }
                other => panic!("unexpected {other}: {}", r.text),
            }
        }
        assert!(
            busy > 0,
            "one check at a time and no waiting: part of the burst is turned away"
        );
        assert!(signed_in > 0, "and the rest signs in");
    }
);

both!(rate_limits_hold_across_servers_on_one_database, |t| async move {
    let l = limits(|l| l.sign_in_per_ip = per_minute(4));
    let a = t.server_with(|_| {}, l).await;
    let b = t.server_with(|_| {}, l).await;
    let from = |base: &str| Browser::with_headers(base, FIREFOX_LINUX, &[("x-forwarded-for", "198.51.100.7")]);
    for (i, base) in [&a.base, &b.base, &a.base, &b.base].into_iter().enumerate() {
        from(base)
            .sign_in(&format!("guess{i}@example.com"), PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
    }
    from(&a.base)
        .sign_in("guess9@example.com", PASSWORD)
        .await
        .assert_error(429, "rate_limited");
    from(&b.base)
        .sign_in("guess9@example.com", PASSWORD)
        .await
        .assert_error(429, "rate_limited");
});
