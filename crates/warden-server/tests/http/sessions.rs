//! The end user's own sessions (seed 000: US-AUTH-SESSION-USER-001..003; seed 002: session retrieval,
//! deletion, timeouts, concurrent limits, activity logging, cross-device) and the session rules in force
//! (seed 001: US-AUTH-SESSION-DEV-001).

use serde_json::json;
use uuid::Uuid;
use warden_core::Role;

use crate::support::*;

fn ids(r: &Resp) -> Vec<String> {
    r.body["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of sessions: {}", r.text))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

both!(list_sessions_lists_all_active_sessions, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let laptop = t.signed_in("ana@example.com").await;
    let phone = Browser::new(&t.server.base, SAFARI_IPHONE);
    assert_eq!(phone.sign_in("ana@example.com", PASSWORD).await.status, 200);
    let ended = t.signed_in("ana@example.com").await;
    let ended_id = ended.session_id().await;
    ended.post("/api/auth/sign-out", json!({})).await;
    let r = laptop.get("/api/sessions").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = ids(&r);
    assert_eq!(
        got.len(),
        2,
        "the two live sessions, not the signed-out one: {}",
        r.text
    );
    assert!(
        got.contains(&laptop.session_id().await.to_string()) && got.contains(&phone.session_id().await.to_string())
    );
    assert!(!got.contains(&ended_id.to_string()));
    let current: Vec<_> = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["is_current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "exactly one is marked current");
    assert_eq!(current[0]["id"], laptop.session_id().await.to_string());
});

both!(list_sessions_shows_device_and_browser_info, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let phone = Browser::new(&t.server.base, SAFARI_IPHONE);
    assert_eq!(phone.sign_in("ana@example.com", PASSWORD).await.status, 200);
    let r = phone.get("/api/sessions").await;
    let s = &r.body["sessions"][0];
    assert_eq!(s["device"], "mobile", "{}", r.text);
    assert_eq!(s["browser"], "Safari");
    assert_eq!(s["os"], "iOS 17.5", "the OS family as people name it, then its version");
    assert_eq!(s["user_agent"], SAFARI_IPHONE);
    assert_eq!(s["client"], "web");
    assert_eq!(s["auth_method"], "password");
    assert_eq!(s["ip"], "127.0.0.1", "the socket's address when no proxy forwarded one");
});

both!(list_sessions_shows_last_activity_time, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let first = b.get("/api/sessions").await;
    assert_eq!(
        first.body["sessions"][0]["last_seen_at"], "2026-01-01T00:00:00.000Z",
        "{}",
        first.text
    );
    assert_eq!(first.body["sessions"][0]["created_at"], "2026-01-01T00:00:00.000Z");
    t.advance(2 * HOUR);
    let later = b.get("/api/sessions").await;
    assert_eq!(
        later.body["sessions"][0]["last_seen_at"], "2026-01-01T02:00:00.000Z",
        "activity moves it: {}",
        later.text
    );
    assert_eq!(later.body["sessions"][0]["created_at"], "2026-01-01T00:00:00.000Z");
});

both!(list_sessions_without_authentication_is_401, |t| async move {
    t.browser()
        .get("/api/sessions")
        .await
        .assert_error(401, "unauthenticated");
});

both!(revoke_session_revokes_a_specific_session_by_id, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let laptop = t.signed_in("ana@example.com").await;
    let phone = t.signed_in("ana@example.com").await;
    let tablet = t.signed_in("ana@example.com").await;
    let phone_id = phone.session_id().await;
    let r = laptop.delete(&format!("/api/sessions/{phone_id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    phone.get("/api/sessions").await.assert_error(401, "unauthenticated");
    assert_eq!(
        tablet.get("/api/sessions").await.status,
        200,
        "other sessions are not affected"
    );
    assert_eq!(ids(&laptop.get("/api/sessions").await).len(), 2);
});

both!(revoke_session_returns_200_with_a_confirmation, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let laptop = t.signed_in("ana@example.com").await;
    let phone = t.signed_in("ana@example.com").await;
    let r = laptop
        .delete(&format!("/api/sessions/{}", phone.session_id().await))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["message"], "session revoked", "{}", r.text);
});

both!(revoke_session_without_authentication_is_401, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let phone = t.signed_in("ana@example.com").await;
    let id = phone.session_id().await;
    t.browser()
        .delete(&format!("/api/sessions/{id}"))
        .await
        .assert_error(401, "unauthenticated");
    assert_eq!(phone.get("/api/sessions").await.status, 200, "nothing was revoked");
});

both!(revoke_session_unknown_or_foreign_is_404_alike, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    let ana = t.signed_in("ana@example.com").await;
    let bob = t.signed_in("bob@example.com").await;
    let bobs = bob.session_id().await;
    let unknown = ana.delete(&format!("/api/sessions/{}", Uuid::now_v7())).await;
    let foreign = ana.delete(&format!("/api/sessions/{bobs}")).await;
    let garbage = ana.delete("/api/sessions/not-a-session-id").await;
    unknown.assert_error(404, "session_not_found");
    assert_eq!(
        foreign.text, unknown.text,
        "another user's session looks exactly like an unknown one"
    );
    assert_eq!(garbage.text, unknown.text);
    assert_eq!(bob.get("/api/sessions").await.status, 200, "bob's session lives on");
});

both!(delete_current_session_requires_signing_in_again, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let id = b.session_id().await;
    let r = b.delete(&format!("/api/sessions/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.get("/api/sessions").await.assert_error(401, "unauthenticated");
    assert_eq!(
        b.sign_in("ana@example.com", PASSWORD).await.status,
        200,
        "a fresh sign-in works"
    );
});

both!(revoke_other_sessions_revokes_all_others, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let keep = t.signed_in("ana@example.com").await;
    let others = [
        t.signed_in("ana@example.com").await,
        t.signed_in("ana@example.com").await,
    ];
    let r = keep.delete("/api/sessions?scope=others").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["revoked"], 2);
    for o in &others {
        o.get("/api/sessions").await.assert_error(401, "unauthenticated");
    }
});

both!(revoke_other_sessions_keeps_the_current_session, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let keep = t.signed_in("ana@example.com").await;
    let _other = t.signed_in("ana@example.com").await;
    keep.delete("/api/sessions?scope=others").await;
    let r = keep.get("/api/sessions").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        ids(&r),
        vec![keep.session_id().await.to_string()],
        "only the current one remains"
    );
    assert_eq!(r.body["sessions"][0]["is_current"], true);
});

both!(revoke_other_sessions_returns_200, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let keep = t.signed_in("ana@example.com").await;
    let r = keep.delete("/api/sessions?scope=others").await;
    assert_eq!(r.status, 200, "also when there is nothing to revoke: {}", r.text);
    assert_eq!(r.body["revoked"], 0);
    keep.delete("/api/sessions").await.assert_error(400, "invalid_input");
    keep.delete("/api/sessions?scope=everything")
        .await
        .assert_error(400, "invalid_input");
});

both!(revoke_other_sessions_without_authentication_is_401, |t| async move {
    t.browser()
        .delete("/api/sessions?scope=others")
        .await
        .assert_error(401, "unauthenticated");
});

both!(session_expiration_time_is_configured_by_policy, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("ttl", "2h"), ("idle_timeout", "1h"), ("refresh_after", "30m")])
        .await;
    let b = t.browser();
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(
        r.body["session"]["expires_at"], "2026-01-01T02:00:00.000Z",
        "{}",
        r.text
    );
});

both!(session_refresh_behaviour_is_configured_by_policy, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("ttl", "2h"), ("idle_timeout", "2h"), ("refresh_after", "90m")])
        .await;
    let b = t.signed_in("ana@example.com").await;
    t.advance(60 * MINUTE);
    let r = b.get("/api/auth/session").await;
    assert_eq!(
        r.body["session"]["expires_at"], "2026-01-01T02:00:00.000Z",
        "not refreshed before refresh_after"
    );
    t.advance(31 * MINUTE);
    let r = b.get("/api/auth/session").await;
    assert_eq!(
        r.body["session"]["expires_at"], "2026-01-01T03:31:00.000Z",
        "refreshed after it: {}",
        r.text
    );
});

both!(session_expires_after_the_configured_time, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("ttl", "2h"), ("idle_timeout", "2h"), ("refresh_after", "2h")])
        .await;
    let b = t.signed_in("ana@example.com").await;
    t.advance(2 * HOUR - SECOND);
    assert_eq!(b.get("/api/auth/session").await.status, 200);
    t.advance(SECOND);
    b.get("/api/auth/session").await.assert_error(401, "unauthenticated");
});

both!(session_refreshes_when_accessed, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("ttl", "2h"), ("idle_timeout", "2h"), ("refresh_after", "1h")])
        .await;
    let b = t.signed_in("ana@example.com").await;
    for _ in 0..4 {
        t.advance(90 * MINUTE);
        assert_eq!(
            b.get("/api/auth/session").await.status,
            200,
            "each use within the ttl slides it on"
        );
    }
    assert!(t.now() - START > 2 * HOUR, "the session outlived one ttl");
});

both!(session_timeout_at_max_lifetime_despite_refreshes, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[
        ("ttl", "2h"),
        ("idle_timeout", "2h"),
        ("refresh_after", "1h"),
        ("max_lifetime", "4h"),
    ])
    .await;
    let b = t.signed_in("ana@example.com").await;
    for _ in 0..3 {
        t.advance(75 * MINUTE);
        assert_eq!(b.get("/api/auth/session").await.status, 200);
    }
    t.advance(45 * MINUTE);
    b.get("/api/auth/session").await.assert_error(401, "unauthenticated");
    assert_eq!(
        b.sign_in("ana@example.com", PASSWORD).await.status,
        200,
        "a new sign-in starts a new session"
    );
});

both!(idle_timeout_invalidates_and_allows_fresh_sign_in, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("idle_timeout", "30m")]).await;
    let b = t.signed_in("ana@example.com").await;
    t.advance(31 * MINUTE);
    b.get("/api/sessions").await.assert_error(401, "unauthenticated");
    assert_eq!(
        b.sign_in("ana@example.com", PASSWORD).await.status,
        200,
        "the same credentials sign in again"
    );
    assert_eq!(b.get("/api/sessions").await.status, 200);
});

both!(concurrent_session_limit_evicts_the_oldest, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("max_concurrent", "2"), ("on_limit", "evict_oldest")])
        .await;
    let first = t.signed_in("ana@example.com").await;
    t.advance(SECOND);
    let second = t.signed_in("ana@example.com").await;
    t.advance(SECOND);
    let third = t.signed_in("ana@example.com").await;
    first.get("/api/sessions").await.assert_error(401, "unauthenticated");
    assert_eq!(second.get("/api/sessions").await.status, 200);
    assert_eq!(ids(&third.get("/api/sessions").await).len(), 2);
});

both!(concurrent_session_limit_rejects_new_sessions, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.sessions(&[("max_concurrent", "1"), ("on_limit", "reject")]).await;
    let first = t.signed_in("ana@example.com").await;
    let r = t.browser().sign_in("ana@example.com", PASSWORD).await;
    r.assert_error(409, "session_limit_reached");
    assert_eq!(
        first.get("/api/sessions").await.status,
        200,
        "the existing session stays"
    );
});

both!(admin_sessions_follow_the_shorter_privileged_policy, |t| async move {
    t.user("help@example.com", Role::Support).await;
    t.user("ana@example.com", Role::User).await;
    let r = t.browser().sign_in("help@example.com", PASSWORD).await;
    assert_eq!(
        r.body["session"]["expires_at"], "2026-01-01T08:00:00.000Z",
        "privileged.ttl is 8h: {}",
        r.text
    );
    let r = t.browser().sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(
        r.body["session"]["expires_at"], "2026-01-08T00:00:00.000Z",
        "session.ttl is 7 days"
    );
});

both!(cross_device_sessions_are_told_apart, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let laptop = t.signed_in("ana@example.com").await;
    let phone = Browser::new(&t.server.base, SAFARI_IPHONE);
    phone.sign_in("ana@example.com", PASSWORD).await;
    let r = laptop.get("/api/sessions").await;
    let mut devices: Vec<(String, String)> = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["device"].as_str().unwrap().to_owned(),
                s["browser"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    devices.sort();
    assert_eq!(
        devices,
        vec![("desktop".into(), "Firefox".into()), ("mobile".into(), "Safari".into())]
    );
});

both!(session_activity_is_logged_in_own_audit_events, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let other = t.signed_in("ana@example.com").await;
    b.delete(&format!("/api/sessions/{}", other.session_id().await)).await;
    t.browser().sign_in("ana@example.com", WRONG_PASSWORD).await;
    let r = b.get("/api/sessions/audit").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let kinds: Vec<&str> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "auth.sign_in_failed",
            "session.revoked",
            "auth.signed_in",
            "auth.signed_in",
            "user.created"
        ],
        "newest first"
    );
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["has_more"], false);
    assert_eq!(r.body["events"][1]["actor"], "self");
    assert_eq!(r.body["events"][0]["status"], "failure");
});

both!(own_audit_events_filter_and_paginate, |t| async move {
    t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    for _ in 0..4 {
        t.signed_in("ana@example.com").await;
    }
    t.signed_in("bob@example.com").await;
    t.browser().sign_in("ana@example.com", WRONG_PASSWORD).await;
    let r = b.get("/api/sessions/audit?type=auth.signed_in&limit=2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 5, "ana's five sign-ins, not bob's");
    assert_eq!(r.body["limit"], 2);
    assert_eq!(r.body["has_more"], true);
    let mut seen: Vec<i64> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    let mut cursor = r.body["next_cursor"].as_i64().unwrap();
    loop {
        let p = b
            .get(&format!(
                "/api/sessions/audit?type=auth.signed_in&limit=2&cursor={cursor}"
            ))
            .await;
        seen.extend(
            p.body["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match p.body["next_cursor"].as_i64() {
            Some(c) => cursor = c,
            None => {
                assert_eq!(p.body["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(seen.len(), 5, "the pages cover the set once");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats: {seen:?}"
    );
    let failed = b.get("/api/sessions/audit?status=failure").await;
    assert_eq!(failed.body["total"], 1, "{}", failed.text);
    assert_eq!(failed.body["events"][0]["type"], "auth.sign_in_failed");
    let group = b.get("/api/sessions/audit?type=auth.").await;
    assert_eq!(group.body["total"], 6, "a group prefix ending in a dot");
    b.get("/api/sessions/audit?status=maybe")
        .await
        .assert_error(400, "invalid_input");
    b.get("/api/sessions/audit?limit=0")
        .await
        .assert_error(400, "invalid_input");
    b.get("/api/sessions/audit?limit=lots")
        .await
        .assert_error(400, "invalid_input");
    t.browser()
        .get("/api/sessions/audit")
        .await
        .assert_error(401, "unauthenticated");
});

both!(list_sessions_shows_where_each_session_is, |t| async move {
    // Seed 002, "Session metadata": IP address and geolocation, from the trusted proxy's headers.
    t.user("ana@example.com", Role::User).await;
    let b = Browser::with_headers(
        &t.server.base,
        FIREFOX_LINUX,
        &[
            ("x-forwarded-for", "203.0.113.77"),
            ("cf-ipcountry", "NZ"),
            ("cf-ipcity", "Wellington"),
        ],
    );
    assert_eq!(b.sign_in("ana@example.com", PASSWORD).await.status, 200);
    let r = b.get("/api/sessions").await;
    let s = &r.body["sessions"][0];
    assert_eq!(
        (s["ip"].as_str(), s["country"].as_str(), s["city"].as_str()),
        (Some("203.0.113.77"), Some("NZ"), Some("Wellington")),
        "{}",
        r.text
    );
    assert_eq!(
        (s["device"].as_str(), s["browser"].as_str(), s["os"].as_str()),
        (Some("desktop"), Some("Firefox"), Some("Linux"))
    );
});

both!(
    list_sessions_gives_counts_and_lists_ended_sessions_on_request,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        t.user("bob@example.com", Role::User).await;
        let _bob = t.signed_in("bob@example.com").await;
        let laptop = t.signed_in("ana@example.com").await;
        let _phone = t.signed_in("ana@example.com").await;
        let gone = t.signed_in("ana@example.com").await;
        let gone_id = gone.session_id().await;
        gone.post("/api/auth/sign-out", json!({})).await;
        let r = laptop.get("/api/sessions").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            (r.body["count"].as_i64(), r.body["active_count"].as_i64()),
            (Some(2), Some(2)),
            "ana's two live sessions, not bob's"
        );
        assert!(r.body["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "active" && s["is_expired"] == false && s["ended_at"].is_null()));
        assert_eq!(
            r.body["sessions"][0]["expires_at"], "2026-01-08T00:00:00.000Z",
            "each with its expiry (the default 7 days)"
        );

        let all = laptop.get("/api/sessions?include_expired=true").await;
        assert_eq!(all.status, 200, "{}", all.text);
        assert_eq!(
            (all.body["count"].as_i64(), all.body["active_count"].as_i64()),
            (Some(3), Some(2))
        );
        let ended = all.body["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == gone_id.to_string())
            .unwrap_or_else(|| panic!("the signed-out session is listed: {}", all.text));
        assert_eq!(
            (&ended["status"], &ended["is_expired"], &ended["revoke_reason"]),
            (&json!("revoked"), &json!(true), &json!("user_logout"))
        );
        assert_eq!(ended["ended_at"], "2026-01-01T00:00:00.000Z");
        assert_eq!(
            ended["user_id"],
            laptop.get("/api/auth/session").await.body["user"]["id"]
        );
    }
);

both!(an_idle_session_is_listed_with_when_it_went_idle, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let old = t.signed_in("ana@example.com").await;
    let old_id = old.session_id().await;
    t.advance(4 * DAY);
    let now = t.signed_in("ana@example.com").await;
    let all = now.get("/api/sessions?include_expired=true").await;
    assert_eq!(all.body["active_count"], 1, "{}", all.text);
    let s = &all.body["sessions"][1];
    assert_eq!(s["id"], old_id.to_string());
    assert_eq!((&s["status"], &s["revoke_reason"]), (&json!("idle"), &json!("idle")));
    assert_eq!(
        s["ended_at"], "2026-01-04T00:00:00.001Z",
        "three days after its last use"
    );
    let audit = now.get("/api/sessions/audit?type=session.ended").await;
    assert_eq!(audit.body["total"], 1, "its end is in the user's audit: {}", audit.text);
    assert_eq!(audit.body["events"][0]["metadata"]["reason"], "idle");
});

both!(sessions_and_audit_take_only_the_callers_own_user_id, |t| async move {
    let ana = t.user("ana@example.com", Role::User).await;
    let bob = t.user("bob@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    assert_eq!(b.get(&format!("/api/sessions?user_id={ana}")).await.body["count"], 1);
    let own = b.get(&format!("/api/sessions/audit?user_id={ana}")).await;
    assert_eq!(own.status, 200, "{}", own.text);
    for path in ["/api/sessions", "/api/sessions/audit"] {
        let r = b.get(&format!("{path}?user_id={bob}")).await;
        r.assert_error(403, "forbidden");
        assert_eq!(r.body["field"], "user_id");
    }
    // The page's size: 50 by default, at most 200.
    assert_eq!(own.body["limit"], 50);
    assert_eq!(b.get("/api/sessions/audit?limit=200").await.body["limit"], 200);
    let r = b.get("/api/sessions/audit?limit=201").await;
    r.assert_error(400, "invalid_input");
    assert_eq!(r.body["field"], "limit");
});

both!(
    get_session_shows_one_own_session_and_404s_unknown_and_foreign_ids_alike,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        t.user("bob@example.com", Role::User).await;
        let laptop = t.signed_in("ana@example.com").await;
        let phone = t.signed_in("ana@example.com").await;
        let bob = t.signed_in("bob@example.com").await;
        let phone_id = phone.session_id().await;
        let r = laptop.get(&format!("/api/sessions/{phone_id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            (&r.body["id"], &r.body["status"], &r.body["is_current"]),
            (&json!(phone_id.to_string()), &json!("active"), &json!(false))
        );
        phone.post("/api/auth/sign-out", json!({})).await;
        let r = laptop.get(&format!("/api/sessions/{phone_id}")).await;
        assert_eq!((r.status, &r.body["status"]), (200, &json!("revoked")), "{}", r.text);

        let foreign = laptop.get(&format!("/api/sessions/{}", bob.session_id().await)).await;
        let unknown = laptop.get(&format!("/api/sessions/{}", Uuid::now_v7())).await;
        let garbage = laptop.get("/api/sessions/not-a-uuid").await;
        for r in [&foreign, &unknown, &garbage] {
            r.assert_error(404, "session_not_found");
        }
        assert_eq!(foreign.text, unknown.text, "nothing tells the two apart");
    }
);

both!(
    a_failed_revocation_is_in_the_users_audit_alike_for_unknown_and_foreign_ids,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        t.user("bob@example.com", Role::User).await;
        let ana = t.signed_in("ana@example.com").await;
        let bob = t.signed_in("bob@example.com").await;
        let foreign = ana.delete(&format!("/api/sessions/{}", bob.session_id().await)).await;
        let unknown = ana
            .delete(&format!("/api/sessions?session_id={}", Uuid::now_v7()))
            .await;
        foreign.assert_error(404, "session_not_found");
        unknown.assert_error(404, "session_not_found");
        assert_eq!(foreign.text, unknown.text);
        let r = ana.get("/api/sessions/audit?type=session.revoked&status=failure").await;
        assert_eq!(r.body["total"], 2, "{}", r.text);
        let events = r.body["events"].as_array().unwrap();
        assert_eq!(events[0]["metadata"], events[1]["metadata"]);
        assert_eq!(events[0]["status"], "failure");
        assert_eq!(bob.get("/api/sessions").await.status, 200, "bob's session lives");
    }
);

both!(revoke_by_query_parameter_ends_one_session, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let laptop = t.signed_in("ana@example.com").await;
    let phone = t.signed_in("ana@example.com").await;
    let r = laptop
        .delete(&format!("/api/sessions?session_id={}", phone.session_id().await))
        .await;
    assert_eq!((r.status, &r.body["revoked"]), (200, &json!(1)), "{}", r.text);
    phone.get("/api/sessions").await.assert_error(401, "unauthenticated");
    laptop
        .delete(&format!("/api/sessions?scope=others&session_id={}", Uuid::now_v7()))
        .await
        .assert_error(400, "invalid_input");
});
