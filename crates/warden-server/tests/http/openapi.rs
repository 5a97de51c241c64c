//! The OpenAPI document is generated from the handlers and covers every route.

use serde_json::json;

use crate::support::*;

both!(openapi_document_describes_every_endpoint, |t| async move {
    let r = t.browser().get("/api/openapi.json").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/auth/sign-up", "post"),
        ("/api/auth/sign-in", "post"),
        ("/api/auth/sign-in/totp", "post"),
        ("/api/auth/sign-out", "post"),
        ("/api/auth/reauthenticate", "post"),
        ("/api/auth/session", "get"),
        ("/api/auth/two-factor/enable", "post"),
        ("/api/auth/two-factor/verify", "post"),
        ("/api/auth/two-factor/disable", "post"),
        ("/api/auth/verification-email", "post"),
        ("/api/auth/verify-email", "get"),
        ("/api/sessions", "get"),
        ("/api/sessions", "delete"),
        ("/api/sessions/{id}", "get"),
        ("/api/sessions/{id}", "delete"),
        ("/api/sessions/audit", "get"),
        ("/api/admin/users/{id}/revoke-sessions", "post"),
        ("/healthz", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }
    let session = &r.body["components"]["schemas"]["SessionOut"]["properties"];
    for f in [
        "device",
        "browser",
        "os",
        "ip",
        "country",
        "city",
        "auth_method",
        "client",
        "last_seen_at",
        "is_current",
    ] {
        assert!(session.get(f).is_some(), "SessionOut.{f}");
    }
    let scheme = &r.body["components"]["securitySchemes"]["session_cookie"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["in"].as_str()),
        (Some("apiKey"), Some("cookie"))
    );
    assert_eq!(scheme["name"], "warden_session");
    // Every documented operation, called without a cookie: exactly those that declare the session
    // cookie answer 401 `unauthenticated`.
    let anon = t.browser();
    let mut secured = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let declared = op.get("security").is_some();
            let url = path.replace("{id}", "0190a000-0000-7000-8000-000000000000");
            let r = match method.as_str() {
                "get" => anon.get(&url).await,
                "post" => anon.post(&url, json!({})).await,
                "delete" => anon.delete(&url).await,
                other => panic!("{other} {path}: a method the test does not know"),
            };
            let unauthenticated = r.status == 401 && r.body["code"] == "unauthenticated";
            assert_eq!(
                unauthenticated, declared,
                "{method} {path}: declares the cookie: {declared}; without one it answered {} {}",
                r.status, r.text
            );
            secured += usize::from(declared);
        }
    }
    assert_eq!(secured, 12, "the operations that need a session");
});
