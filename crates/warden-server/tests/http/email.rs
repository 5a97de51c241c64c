//! Email verification over a real SMTP exchange with a local sink (seed 001: US-AUTH-SESSION-DEV-007).

use serde_json::json;
use warden_core::Role;

use crate::support::*;

async fn sign_up(t: &T, email: &str) -> Resp {
    let r = t
        .browser()
        .post(
            "/api/auth/sign-up",
            json!({ "email": email, "password": PASSWORD, "name": "Ana Lima" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

both!(send_verification_email_on_sign_up, |t| async move {
    let r = sign_up(&t, "ana@example.com").await;
    assert_eq!(r.body["verification_email_sent"], true);
    let mails = t.mail.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["<ana@example.com>"]);
    assert_eq!(mails[0].from, "<no-reply@app.test>");
    let text = mails[0].text();
    assert!(text.contains("Subject: Confirm your email address"), "{text}");
    assert!(
        text.contains("http://app.test/api/auth/verify-email?token="),
        "the link starts with the public URL: {text}"
    );
    assert!(mails[0].token().len() >= 40);
});

both!(verify_email_with_the_token, |t| async move {
    sign_up(&t, "ana@example.com").await;
    let token = t.mail.wait_for(1).await[0].token();
    let r = t.browser().get(&format!("/api/auth/verify-email?token={token}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "email address verified");
});

both!(verify_email_marks_the_email_verified, |t| async move {
    sign_up(&t, "ana@example.com").await;
    t.set_policy(&[("email_verification.required_for_sign_in", "true")])
        .await;
    t.browser()
        .sign_in("ana@example.com", PASSWORD)
        .await
        .assert_error(403, "email_not_verified");
    let token = t.mail.wait_for(1).await[0].token();
    t.browser().get(&format!("/api/auth/verify-email?token={token}")).await;
    let b = t.browser();
    let r = b.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["user"]["email_verified"], true);
});

both!(verify_email_rejects_an_expired_token, |t| async move {
    t.set_policy(&[("email_verification.token_ttl", "1h")]).await;
    sign_up(&t, "ana@example.com").await;
    let token = t.mail.wait_for(1).await[0].token();
    t.advance(HOUR);
    t.browser()
        .get(&format!("/api/auth/verify-email?token={token}"))
        .await
        .assert_error(400, "invalid_token");
});

both!(verify_email_rejects_a_reused_or_superseded_token, |t| async move {
    sign_up(&t, "ana@example.com").await;
    let first = t.mail.wait_for(1).await[0].token();
    let r = t
        .browser()
        .post("/api/auth/verification-email", json!({ "email": "ana@example.com" }))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let second = t.mail.wait_for(2).await[1].token();
    assert_ne!(first, second);
    t.browser()
        .get(&format!("/api/auth/verify-email?token={first}"))
        .await
        .assert_error(400, "invalid_token");
    assert_eq!(
        t.browser()
            .get(&format!("/api/auth/verify-email?token={second}"))
            .await
            .status,
        200
    );
    t.browser()
        .get(&format!("/api/auth/verify-email?token={second}"))
        .await
        .assert_error(400, "invalid_token");
    t.browser()
        .get("/api/auth/verify-email?token=garbage")
        .await
        .assert_error(400, "invalid_token");
    t.browser()
        .get("/api/auth/verify-email")
        .await
        .assert_error(400, "invalid_token");
});

both!(verification_email_reveals_nothing_about_accounts, |t| async move {
    t.user("verified@example.com", Role::User).await;
    let a = t
        .browser()
        .post("/api/auth/verification-email", json!({ "email": "nobody@example.com" }))
        .await;
    let b = t
        .browser()
        .post(
            "/api/auth/verification-email",
            json!({ "email": "verified@example.com" }),
        )
        .await;
    assert_eq!((a.status, &a.text), (b.status, &b.text));
    assert_eq!(a.status, 202);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(t.mail.count(), 0, "no mail for unknown or already verified addresses");
});

both!(
    a_refused_verification_email_is_queued_and_delivered_later_even_after_a_restart,
    |t| async move {
        t.mail.refuse(true);
        let r = sign_up(&t, "ana@example.com").await;
        assert_eq!(
            (&r.body["verification_email_sent"], &r.body["verification_email_queued"]),
            (&json!(false), &json!(true)),
            "sent only when the mail server accepted it: {}",
            r.text
        );
        assert!(r.body["message"].as_str().unwrap().contains("queued"), "{}", r.text);
        let support = t.cli();
        let waiting = warden_core::ops::mail::undelivered(&t.db, &support, None, t.now(), 10)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "the console and the CLI list it");
        assert_eq!((waiting[0].email.as_str(), waiting[0].attempts), ("ana@example.com", 1));
        assert!(
            waiting[0].last_error.as_deref().is_some_and(|e| e.contains("451")),
            "with what the mail server said: {:?}",
            waiting[0].last_error
        );
        assert!(
            !waiting[0].last_error.as_deref().unwrap().contains("token="),
            "never the link"
        );

        // The mail server is back; a server started afresh on the same database delivers it when due.
        t.mail.refuse(false);
        t.advance(MINUTE + SECOND);
        let _restarted = t.server_with(|a| a.mail_retry_ms = Some(100), limits(|_| {})).await;
        let token = t.mail.wait_for(1).await[0].token();
        let v = t.browser().get(&format!("/api/auth/verify-email?token={token}")).await;
        assert_eq!(v.status, 200, "the delivered link works: {}", v.text);
        // The sender records the delivery once the mail server's answer is in, a moment after the sink
        // has the message.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let waiting = warden_core::ops::mail::undelivered(&t.db, &support, None, t.now(), 10)
                .await
                .unwrap();
            if waiting.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "nothing left undelivered: {waiting:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
);
