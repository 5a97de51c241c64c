//! Admin revocation over HTTP (seed 001: US-AUTH-SESSION-DEV-003) and the paths across doors: what the
//! HTTP door does shows on the admin side, and what the admin side does holds on the next HTTP call.

use serde_json::json;
use uuid::Uuid;
use warden_core::ops::admin::{self, SessionQuery};
use warden_core::Role;

use crate::support::*;

both!(admin_revoke_user_sessions_revokes_all_of_them, |t| async move {
    let ana = t.user("ana@example.com", Role::User).await;
    t.user("root@example.com", Role::SecurityAdmin).await;
    let sessions = [
        t.signed_in("ana@example.com").await,
        t.signed_in("ana@example.com").await,
    ];
    let admin = t.signed_in("root@example.com").await;
    let r = admin
        .post(
            &format!("/api/admin/users/{ana}/revoke-sessions"),
            json!({ "reason": "stolen laptop" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["revoked"], 2);
    for s in &sessions {
        s.get("/api/sessions").await.assert_error(401, "unauthenticated");
    }
    let audited = warden_core::store::audit::list(
        &t.db,
        &warden_core::ops::audit::AuditFilter {
            action: Some("user.sessions_revoked".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(audited.events.len(), 1);
    assert_eq!(audited.events[0].actor_label, "root@example.com");
    assert_eq!(audited.events[0].reason.as_deref(), Some("stolen laptop"));
});

both!(admin_revoke_user_sessions_then_returns_401_for_them, |t| async move {
    let ana = t.user("ana@example.com", Role::User).await;
    t.user("help@example.com", Role::Support).await;
    let victim = t.signed_in("ana@example.com").await;
    let support = t.signed_in("help@example.com").await;
    let r = support
        .post(
            &format!("/api/admin/users/{ana}/revoke-sessions"),
            json!({ "reason": "ticket 42" }),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "support may end a user's sessions, as in the console: {}",
        r.text
    );
    victim
        .get("/api/auth/session")
        .await
        .assert_error(401, "unauthenticated");
    victim
        .delete("/api/sessions?scope=others")
        .await
        .assert_error(401, "unauthenticated");
});

both!(
    admin_revoke_user_sessions_without_authentication_is_401,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let s = t.signed_in("ana@example.com").await;
        t.browser()
            .post(
                &format!("/api/admin/users/{ana}/revoke-sessions"),
                json!({ "reason": "x" }),
            )
            .await
            .assert_error(401, "unauthenticated");
        assert_eq!(s.get("/api/sessions").await.status, 200);
    }
);

both!(admin_revoke_user_sessions_is_403_for_non_admins, |t| async move {
    let ana = t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    let s = t.signed_in("ana@example.com").await;
    let bob = t.signed_in("bob@example.com").await;
    bob.post(
        &format!("/api/admin/users/{ana}/revoke-sessions"),
        json!({ "reason": "x" }),
    )
    .await
    .assert_error(403, "forbidden");
    bob.post(&format!("/api/admin/users/{ana}/revoke-sessions"), json!({}))
        .await
        .assert_error(403, "forbidden");
    assert_eq!(s.get("/api/sessions").await.status, 200, "nothing was revoked");
});

both!(
    admin_revoke_user_sessions_needs_a_reason_and_a_known_user,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        t.user("root@example.com", Role::SecurityAdmin).await;
        let admin = t.signed_in("root@example.com").await;
        let r = admin
            .post(
                &format!("/api/admin/users/{ana}/revoke-sessions"),
                json!({ "reason": " " }),
            )
            .await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], "reason");
        admin
            .post(
                &format!("/api/admin/users/{}/revoke-sessions", Uuid::now_v7()),
                json!({ "reason": "x" }),
            )
            .await
            .assert_error(404, "user_not_found");
    }
);

both!(
    http_sign_in_shows_in_the_admin_api_and_admin_revocation_ends_it,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let b = Browser::with_headers(
            &t.server.base,
            FIREFOX_LINUX,
            &[
                ("x-forwarded-for", "203.0.113.7"),
                ("cf-ipcountry", "de"),
                ("cf-ipcity", "Berlin"),
            ],
        );
        let r = b.sign_in("ana@example.com", PASSWORD).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = admin::sessions_page(
            &t.db,
            &t.cli(),
            &SessionQuery {
                limit: 50,
                ..Default::default()
            },
            t.now(),
        )
        .await
        .unwrap();
        assert_eq!(page.sessions.len(), 1);
        let s = &page.sessions[0].view.session;
        assert_eq!(page.sessions[0].user_email, "ana@example.com");
        assert_eq!(
            (s.device.as_str(), s.browser.as_deref(), s.os.as_deref()),
            ("desktop", Some("Firefox"), Some("Linux"))
        );
        assert_eq!(
            s.ip.as_deref(),
            Some("203.0.113.7"),
            "the client IP forwarded by the trusted proxy"
        );
        assert_eq!((s.country.as_deref(), s.city.as_deref()), (Some("DE"), Some("Berlin")));
        assert_eq!(s.client.as_deref(), Some("web"));
        let n = admin::revoke_user_sessions(&t.db, &t.cli(), t.now(), &ana.to_string(), "incident 7")
            .await
            .unwrap();
        assert_eq!(n, 1);
        b.get("/api/sessions").await.assert_error(401, "unauthenticated");
    }
);

both!(
    forwarded_ip_and_location_are_ignored_from_untrusted_peers,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let direct = t.server_with(|a| a.trusted_proxies = vec![], limits(|_| {})).await;
        let b = Browser::with_headers(
            &direct.base,
            FIREFOX_LINUX,
            &[("x-forwarded-for", "203.0.113.7"), ("cf-ipcountry", "DE")],
        );
        b.sign_in("ana@example.com", PASSWORD).await;
        let r = b.get("/api/sessions").await;
        assert_eq!(
            r.body["sessions"][0]["ip"], "127.0.0.1",
            "a client cannot choose its own IP: {}",
            r.text
        );
        assert_eq!(r.body["sessions"][0]["country"], serde_json::Value::Null);
    }
);

both!(forwarded_chain_takes_the_nearest_untrusted_hop, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let proxied = t
        .server_with(
            |a| a.trusted_proxies = vec!["127.0.0.1/32".into(), "10.0.0.0/8".into()],
            limits(|_| {}),
        )
        .await;
    let b = Browser::with_headers(
        &proxied.base,
        FIREFOX_LINUX,
        &[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.1.2.3")],
    );
    b.sign_in("ana@example.com", PASSWORD).await;
    let r = b.get("/api/sessions").await;
    assert_eq!(
        r.body["sessions"][0]["ip"], "203.0.113.9",
        "the left-most entry is the client's claim; trust stops at our proxies: {}",
        r.text
    );
    // A client that sends `1.1.1.1, x` hoping the proxy's append is ignored past the garbage.
    let spoof = Browser::with_headers(&proxied.base, FIREFOX_LINUX, &[("x-forwarded-for", "1.1.1.1, x")]);
    spoof.sign_in("ana@example.com", PASSWORD).await;
    let r = spoof.get("/api/auth/session").await;
    assert_eq!(
        r.body["session"]["ip"], "127.0.0.1",
        "an unparsable hop ends the walk at our nearest proxy: {}",
        r.text
    );
});

both!(
    policy_change_on_the_admin_side_applies_to_the_next_http_request,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let b = t.browser();
        b.sign_in("ana@example.com", WRONG_PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
        b.sign_in("ana@example.com", WRONG_PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
        warden_core::ops::policy::set(
            &t.db,
            &t.cli(),
            t.now(),
            &[("lockout.threshold".into(), "3".into())],
            "tighter after the incident",
        )
        .await
        .unwrap();
        let r = b.sign_in("ana@example.com", WRONG_PASSWORD).await;
        r.assert_error(429, "locked");
        assert!(r.headers.get("retry-after").is_some());
    }
);

both!(admin_side_idle_timeout_change_ends_idle_http_sessions, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    t.advance(40 * MINUTE);
    assert_eq!(b.get("/api/auth/session").await.status, 200);
    t.advance(20 * MINUTE);
    t.sessions(&[("idle_timeout", "15m")]).await;
    b.get("/api/auth/session").await.assert_error(401, "unauthenticated");
});

both!(suspicious_activity_is_flagged_for_review, |t| async move {
    // Seed 002, "Suspicious activity detection": a sign-in from Brazil twenty minutes after activity from
    // Germany is flagged for review; the reviewer closes it after ending the session.
    t.user("ana@example.com", Role::User).await;
    let from = |country: &str| {
        Browser::with_headers(
            &t.server.base,
            FIREFOX_LINUX,
            &[("x-forwarded-for", "198.51.100.7"), ("cf-ipcountry", country)],
        )
    };
    let berlin = from("DE");
    assert_eq!(berlin.sign_in("ana@example.com", PASSWORD).await.status, 200);
    t.advance(20 * MINUTE);
    berlin.get("/api/sessions").await;
    let rio = from("BR");
    assert_eq!(rio.sign_in("ana@example.com", PASSWORD).await.status, 200);
    let flagged = warden_core::ops::flags::page(
        &t.db,
        &t.cli(),
        &warden_core::ops::flags::FlagQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(flagged.open, 1, "{:?}", flagged.flags);
    let f = &flagged.flags[0];
    assert_eq!((f.rule.as_str(), f.severity.as_str()), ("impossible_travel", "high"));
    assert_eq!(f.session_id, Some(rio.session_id().await));
    assert_eq!(f.detail, "signed in from BR 0 min after activity from DE");
    // The owner sees it among their own events too.
    let own = rio.get("/api/sessions/audit?type=session.flagged").await;
    assert_eq!(own.body["total"], 1, "{}", own.text);
    warden_core::ops::admin::revoke_session(&t.db, &t.cli(), t.now(), f.session_id.unwrap(), "impossible travel")
        .await
        .unwrap();
    warden_core::ops::flags::resolve(
        &t.db,
        &t.cli(),
        t.now(),
        f.id,
        warden_core::ops::flags::Resolution::Actioned,
        "ended the Brazilian session",
    )
    .await
    .unwrap();
    rio.get("/api/sessions").await.assert_error(401, "unauthenticated");
    assert_eq!(
        berlin.get("/api/sessions").await.status,
        200,
        "the other session is untouched"
    );
});

both!(
    privileged_actions_need_a_recent_authentication_which_the_api_renews,
    |t| async move {
        // Seed 002, "Admin session requirements": periodic re-authentication for privileged operations.
        t.user("root@example.com", Role::SecurityAdmin).await;
        let victim = t.user("bob@example.com", Role::User).await;
        let admin = t.signed_in("root@example.com").await;
        t.advance(16 * MINUTE);
        let path = format!("/api/admin/users/{victim}/revoke-sessions");
        admin
            .post(&path, json!({ "reason": "phished" }))
            .await
            .assert_error(403, "reauth_required");
        let r = admin
            .post("/api/auth/reauthenticate", json!({ "password": WRONG_PASSWORD }))
            .await;
        r.assert_error(400, "invalid_credentials");
        assert_eq!(
            admin.get("/api/auth/session").await.status,
            200,
            "a wrong password does not end the session"
        );
        let r = admin
            .post("/api/auth/reauthenticate", json!({ "password": PASSWORD }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(admin.post(&path, json!({ "reason": "phished" })).await.status, 200);
    }
);
