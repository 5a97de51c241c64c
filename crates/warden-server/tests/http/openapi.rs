//! The OpenAPI document is generated from the handlers and covers every route.

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
        ("/api/auth/session", "get"),
        ("/api/auth/two-factor/enable", "post"),
        ("/api/auth/two-factor/verify", "post"),
        ("/api/auth/two-factor/disable", "post"),
        ("/api/auth/verification-email", "post"),
        ("/api/auth/verify-email", "get"),
        ("/api/sessions", "get"),
        ("/api/sessions", "delete"),
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
});
