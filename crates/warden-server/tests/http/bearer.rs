//! API clients without cookies (seed 004: `Authorization: Bearer <token>`): a bearer session asked for
//! at sign-in, with the same rules, revocation and audit as a cookie session, and no CSRF token; and the
//! application a session came from, named by the client within the server's allow-list.

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};
use warden_core::Role;

use crate::support::*;
use crate::two_factor::enrol;

/// A script or a mobile app: no cookie store, no Origin; a bearer token once it has one.
struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    headers: HeaderMap,
}

impl ApiClient {
    fn new(base: &str) -> ApiClient {
        ApiClient {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: None,
            headers: HeaderMap::new(),
        }
    }

    fn named(mut self, client: &str) -> ApiClient {
        self.headers
            .insert("x-warden-client", HeaderValue::from_str(client).unwrap());
        self
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .headers(self.headers.clone());
        if let Some(t) = &self.token {
            req = req.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = read(req.send().await.expect("request reaches the server")).await;
        assert_documented(
            &method.as_str().to_ascii_lowercase(),
            path.split('?').next().unwrap(),
            r.status,
            &r.text,
        );
        r
    }

    async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Signs in for a bearer session and keeps its token.
    async fn sign_in(&mut self, email: &str) -> Resp {
        let r = self
            .post(
                "/api/auth/sign-in",
                json!({ "email": email, "password": PASSWORD, "bearer": true }),
            )
            .await;
        if let Some(t) = r.body["token"].as_str() {
            self.token = Some(t.to_owned());
        }
        r
    }
}

both!(
    an_api_client_signs_in_for_a_bearer_session_and_uses_it_without_cookies_or_csrf,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let laptop = t.signed_in("ana@example.com").await;
        let mut app = ApiClient::new(&t.server.base);
        let r = app.sign_in("ana@example.com").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.set_cookie("warden_session").is_none(),
            "a bearer session sets no cookie"
        );
        assert!(r.body.get("csrf_token").is_none(), "and needs no CSRF token");
        let token = r.body["token"].as_str().unwrap();
        assert_eq!(token.len(), 43);

        let list = app.get("/api/sessions").await;
        assert_eq!((list.status, &list.body["count"]), (200, &json!(2)), "{}", list.text);
        let me = app.get("/api/auth/session").await;
        let my_id = me.body["session"]["id"].as_str().unwrap().to_owned();
        // A state-changing request: no Origin, no CSRF header, only the bearer token.
        let other = laptop.session_id().await;
        let r = app.delete(&format!("/api/sessions/{other}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        laptop.get("/api/sessions").await.assert_error(401, "unauthenticated");
        // Revocation ends a bearer session like any other.
        let r = app.delete(&format!("/api/sessions/{my_id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        app.get("/api/sessions").await.assert_error(401, "unauthenticated");
        // And each step is in the audit log.
        let audit = t.cli_audit("session.revoked").await;
        assert_eq!(audit, 2, "both revocations are audited");
    }
);

both!(
    a_request_without_origin_may_not_ask_for_cookies_and_cookie_requests_keep_their_checks,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let app = ApiClient::new(&t.server.base);
        let r = app
            .post(
                "/api/auth/sign-in",
                json!({ "email": "ana@example.com", "password": PASSWORD }),
            )
            .await;
        r.assert_error(403, "origin_not_allowed");
        assert!(r.body["message"].as_str().unwrap().contains("bearer"), "{}", r.text);
        // A cookie session's state-changing request without the CSRF header is still refused, even
        // when it carries no Origin.
        let b = t.signed_in("ana@example.com").await;
        let r = read(
            reqwest::Client::new()
                .post(format!("{}/api/auth/sign-out", t.server.base))
                .header("cookie", "warden_session=whatever")
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        r.assert_error(403, "origin_not_allowed");
        let r = b.delete("/api/sessions?scope=others").await;
        assert_eq!(r.status, 200, "the browser with its CSRF token still works: {}", r.text);
        *b.csrf.lock().unwrap() = None;
        b.delete("/api/sessions?scope=others")
            .await
            .assert_error(403, "csrf_token_invalid");
    }
);

both!(
    a_bearer_sign_in_with_two_factor_carries_its_challenge_in_the_body,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let b = t.signed_in("ana@example.com").await;
        let (secret, _) = enrol(&t, &b).await;
        let mut app = ApiClient::new(&t.server.base);
        let first = app.sign_in("ana@example.com").await;
        assert_eq!(
            (first.status, &first.body["totp_required"]),
            (200, &json!(true)),
            "{}",
            first.text
        );
        assert!(first.set_cookie("warden_totp_challenge").is_none());
        let challenge = first.body["challenge"]
            .as_str()
            .expect("the challenge in the body")
            .to_owned();
        t.advance(30 * SECOND); // the enrolment spent the current step's code
        let second = app
            .post(
                "/api/auth/sign-in/totp",
                json!({ "code": totp_code(&secret, t.now()), "challenge": challenge, "bearer": true }),
            )
            .await;
        assert_eq!(second.status, 200, "{}", second.text);
        assert_eq!(second.body["session"]["auth_method"], "password+totp");
        app.token = second.body["token"].as_str().map(str::to_owned);
        assert_eq!(app.get("/api/auth/session").await.status, 200);
    }
);

both!(
    a_session_names_the_application_it_came_from_within_the_allow_list,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let server = t
            .server_with(|a| a.clients = vec!["web".into(), "ios".into()], limits(|_| {}))
            .await;
        let mut ios = ApiClient::new(&server.base).named("ios");
        assert_eq!(ios.sign_in("ana@example.com").await.status, 200);
        let me = ios.get("/api/auth/session").await;
        assert_eq!(me.body["session"]["client"], "ios", "{}", me.text);
        let mut plain = ApiClient::new(&server.base);
        plain.sign_in("ana@example.com").await;
        assert_eq!(plain.get("/api/auth/session").await.body["session"]["client"], "web");
        let mut tv = ApiClient::new(&server.base).named("smart-tv");
        let r = tv.sign_in("ana@example.com").await;
        r.assert_error(400, "invalid_input");
        assert_eq!(r.body["field"], "x-warden-client");
        assert!(r.body["message"].as_str().unwrap().contains("web, ios"), "{}", r.text);
    }
);
