//! Bad input gets a 4xx `{code, message, field?}`: never a 500, never a bare text body.

use serde_json::json;
use warden_core::Role;

use crate::support::*;

async fn raw(t: &T, req: reqwest::RequestBuilder) -> Resp {
    let _ = t;
    read(req.send().await.expect("request")).await
}

both!(malformed_json_is_400, |t| async move {
    let c = reqwest::Client::new();
    let r = raw(
        &t,
        c.post(format!("{}/api/auth/sign-in", t.server.base))
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .body("{\"email\": \"ana@example.com\", \"password\": "),
    )
    .await;
    r.assert_error(400, "invalid_json");
});

both!(missing_fields_are_400_naming_the_field, |t| async move {
    let r = t
        .browser()
        .post("/api/auth/sign-in", json!({ "email": "ana@example.com" }))
        .await;
    r.assert_error(400, "invalid_input");
    assert_eq!(r.body["field"], "password", "{}", r.text);
    let r = t
        .browser()
        .post("/api/auth/sign-up", json!({ "email": "a@example.com", "password": 12 }))
        .await;
    r.assert_error(400, "invalid_input");
    let r = t.browser().post("/api/auth/sign-up", json!([1, 2, 3])).await;
    r.assert_error(400, "invalid_input");
    for internal in ["struct", "SignUpBody", "elements"] {
        assert!(!r.text.contains(internal), "no internal names: {}", r.text);
    }
    assert!(r.text.contains("JSON object"), "{}", r.text);
});

both!(bad_query_parameters_name_their_field_in_words, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    for (query, field) in [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("status=failed", "status"),
        ("status=maybe", "status"),
    ] {
        let r = b.get(&format!("/api/sessions/audit?{query}")).await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], field, "{query}: {}", r.text);
        assert!(
            r.body["message"].as_str().unwrap().contains(field),
            "{query}: {}",
            r.text
        );
    }
    let r = b.get("/api/sessions?include_expired=perhaps").await;
    r.assert_error(400, "invalid_input");
    assert_eq!(r.body["field"], "include_expired", "{}", r.text);
});

both!(wrong_type_never_echoes_the_password, |t| async move {
    let r = t
        .browser()
        .post(
            "/api/auth/sign-in",
            json!({ "email": ["x"], "password": "hunter2-secret" }),
        )
        .await;
    r.assert_error(400, "invalid_input");
    assert!(!r.text.contains("hunter2"), "{}", r.text);
});

both!(wrong_content_type_is_415, |t| async move {
    let c = reqwest::Client::new();
    let r = raw(
        &t,
        c.post(format!("{}/api/auth/sign-in", t.server.base))
            .header("origin", ORIGIN)
            .header("content-type", "text/plain")
            .body("email=ana@example.com&password=x"),
    )
    .await;
    r.assert_error(415, "unsupported_media_type");
    let r = raw(
        &t,
        c.post(format!("{}/api/auth/sign-up", t.server.base))
            .header("origin", ORIGIN),
    )
    .await;
    r.assert_error(415, "unsupported_media_type");
});

both!(oversized_body_is_413, |t| async move {
    let big = "x".repeat(64 * 1024);
    let r = t
        .browser()
        .post(
            "/api/auth/sign-up",
            json!({ "email": "a@example.com", "password": big, "name": "A" }),
        )
        .await;
    r.assert_error(413, "payload_too_large");
});

both!(garbage_cookies_are_401, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let c = reqwest::Client::new();
    for cookie in [
        "warden_session=",
        "warden_session=%%%garbage%%%",
        "warden_session=\"unterminated",
        "=;;;warden_session",
        &format!("warden_session={}", "A".repeat(5000)),
        "warden_session=ok; warden_session=again",
    ] {
        let r = raw(
            &t,
            c.get(format!("{}/api/sessions", t.server.base))
                .header("cookie", cookie),
        )
        .await;
        assert!(
            r.status == 401 || r.status == 431 || r.status == 400,
            "{cookie:?}: {} {}",
            r.status,
            r.text
        );
        if r.status == 401 {
            r.assert_error(401, "unauthenticated");
        }
    }
    let r = raw(
        &t,
        c.get(format!("{}/api/sessions", t.server.base)).header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(b"warden_session=\xff\xfe").unwrap(),
        ),
    )
    .await;
    r.assert_error(401, "unauthenticated");
});

both!(unknown_paths_and_methods_are_json_errors, |t| async move {
    let r = t.browser().get("/api/nothing-here").await;
    r.assert_error(404, "not_found");
    let r = t.browser().get("/api/auth/sign-in").await;
    r.assert_error(405, "method_not_allowed");
});

both!(healthz_answers_ok, |t| async move {
    let r = t.browser().get("/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    assert!(r.body["database"] == "SQLite" || r.body["database"] == "PostgreSQL");
});

both!(
    nul_characters_and_line_breaks_are_400_naming_the_field,
    |t| async move {
        // PostgreSQL stores no NUL in text: each of these once reached the database and answered 500.
        let r = t
            .browser()
            .post(
                "/api/auth/sign-up",
                json!({ "email": "ana@example.com", "password": PASSWORD, "name": "Ana\u{0}Lima" }),
            )
            .await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], "name", "{}", r.text);
        let r = t
            .browser()
            .post(
                "/api/auth/sign-in",
                json!({ "email": "x\u{0}@example.com", "password": "p" }),
            )
            .await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], "email", "{}", r.text);
        // A name is one line: it goes into the verification email's text.
        let r = t
            .browser()
            .post(
                "/api/auth/sign-up",
                json!({ "email": "ana@example.com", "password": PASSWORD, "name": "Ana\r\n\r\nClick evil.example" }),
            )
            .await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], "name", "{}", r.text);
        assert_eq!(t.mail.count(), 0, "no email went out");

        t.user("admin@example.com", Role::SecurityAdmin).await;
        let victim = t.user("bob@example.com", Role::User).await;
        let admin = t.signed_in("admin@example.com").await;
        let r = admin
            .post(
                &format!("/api/admin/users/{victim}/revoke-sessions"),
                json!({ "reason": "stolen\u{0}laptop" }),
            )
            .await;
        r.assert_error(400, "invalid_input");
        let user = t.signed_in("bob@example.com").await;
        let r = user.get("/api/sessions/audit?type=session.%00").await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], "query", "{}", r.text);
    }
);

both!(a_path_id_that_is_not_text_is_a_json_400, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let r = b.delete("/api/sessions/%FF%FE").await;
    r.assert_error(400, "invalid_input");
    assert_eq!(r.body["field"], "id", "{}", r.text);
});
