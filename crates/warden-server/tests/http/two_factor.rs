//! Two-factor over HTTP (seed 001: US-AUTH-SESSION-DEV-004).

use serde_json::json;
use warden_core::Role;

use crate::support::*;

/// Enables two-factor for a signed-in browser; returns the base32 secret and the backup codes.
pub(crate) async fn enrol(t: &T, b: &Browser) -> (String, Vec<String>) {
    let r = b
        .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let v = b
        .post(
            "/api/auth/two-factor/verify",
            json!({ "code": totp_code(&secret, t.now()) }),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    let codes = v.body["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

both!(two_factor_is_off_until_enabled_and_needs_the_data_key, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    assert_eq!(b.get("/api/auth/session").await.body["user"]["totp_enabled"], false);
    let keyless = {
        let cfg = T::config(&t.url, &t.mail, |_| {});
        T::start(t.db.clone(), t.clock.clone(), None, cfg, limits(|_| {})).await
    };
    let k = Browser::new(&keyless.base, FIREFOX_LINUX);
    k.sign_in("ana@example.com", PASSWORD).await;
    let r = k
        .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await;
    r.assert_error(500, "data_key_invalid");
    assert!(
        r.body["message"].as_str().unwrap().contains("not configured"),
        "a configuration error that says so, not 'temporarily unavailable': {}",
        r.text
    );
    t.browser()
        .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await
        .assert_error(401, "unauthenticated");
});

both!(two_factor_enable_generates_a_totp_secret, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let r = b
        .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.body["secret"].as_str().unwrap();
    assert!(
        secret.len() >= 26
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "{secret}"
    );
    let url = r.body["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/Warden:ana%40example.com?") && url.contains(&format!("secret={secret}")),
        "{url}"
    );
    assert_eq!(
        b.get("/api/auth/session").await.body["user"]["totp_enabled"],
        false,
        "pending until verified"
    );
});

both!(two_factor_enable_returns_a_qr_code, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let r = b
        .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await;
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(r.body["qr_png_base64"].as_str().unwrap())
        .expect("base64");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG image");
    // An authenticator app scanning it gets the otpauth URL the answer names.
    let img = image::load_from_memory(&png).expect("the PNG decodes").to_luma8();
    let (w, h) = img.dimensions();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        img.get_pixel(x as u32, y as u32).0[0]
    });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, r.body["otpauth_url"].as_str().unwrap());
    assert!(content.starts_with("otpauth://totp/"), "{content}");
});

both!(two_factor_verify_checks_the_code_and_signs_in_with_it, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let r = b
        .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
        .await;
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let r = b.post("/api/auth/two-factor/verify", json!({ "code": "000000" })).await;
    r.assert_error(400, "invalid_totp");
    assert_eq!(
        r.body["field"], "code",
        "a wrong code while signed in is not a lost session"
    );
    let v = b
        .post(
            "/api/auth/two-factor/verify",
            json!({ "code": totp_code(&secret, t.now()) }),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["backup_codes"].as_array().unwrap().len(), 10);
    assert_eq!(b.get("/api/auth/session").await.body["user"]["totp_enabled"], true);
    // Signing in now takes two steps.
    let phone = t.browser();
    let first = phone.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["totp_required"], true, "{}", first.text);
    assert!(first.body.get("session").is_none() && first.set_cookie("warden_session").is_none());
    phone
        .get("/api/auth/session")
        .await
        .assert_error(401, "unauthenticated");
    t.advance(30 * SECOND);
    phone
        .post("/api/auth/sign-in/totp", json!({ "code": "123456" }))
        .await
        .assert_error(401, "invalid_totp");
    let second = phone
        .post("/api/auth/sign-in/totp", json!({ "code": totp_code(&secret, t.now()) }))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    phone.remember_csrf(&second);
    assert_eq!(second.body["session"]["auth_method"], "password+totp");
    assert_eq!(phone.get("/api/auth/session").await.status, 200);
    let r = t
        .browser()
        .post("/api/auth/sign-in/totp", json!({ "code": "123456" }))
        .await;
    r.assert_error(400, "invalid_token");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains("challenge") && !message.contains("verification"),
        "the message is about the sign-in challenge: {message}"
    );
});

both!(two_factor_backup_codes_sign_in_once, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let (_, codes) = enrol(&t, &b).await;
    let p = t.browser();
    p.sign_in("ana@example.com", PASSWORD).await;
    let r = p.post("/api/auth/sign-in/totp", json!({ "code": codes[0] })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["session"]["auth_method"], "backup_code");
    let q = t.browser();
    q.sign_in("ana@example.com", PASSWORD).await;
    q.post("/api/auth/sign-in/totp", json!({ "code": codes[0] }))
        .await
        .assert_error(401, "invalid_totp");
});

both!(two_factor_disable_requires_a_valid_code, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let (secret, _) = enrol(&t, &b).await;
    b.post("/api/auth/two-factor/disable", json!({ "code": "000000" }))
        .await
        .assert_error(400, "invalid_totp");
    assert_eq!(b.get("/api/auth/session").await.body["user"]["totp_enabled"], true);
    t.advance(30 * SECOND);
    let r = b
        .post(
            "/api/auth/two-factor/disable",
            json!({ "code": totp_code(&secret, t.now()) }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(b.get("/api/auth/session").await.body["user"]["totp_enabled"], false);
    let again = t.browser().sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(again.body["totp_required"], false, "one step again");
    b.post("/api/auth/two-factor/disable", json!({ "code": "000000" }))
        .await
        .assert_error(409, "totp_not_enabled");
});

both!(two_factor_enable_needs_the_password, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let b = t.signed_in("ana@example.com").await;
    let r = b
        .post("/api/auth/two-factor/enable", json!({ "password": WRONG_PASSWORD }))
        .await;
    r.assert_error(400, "invalid_credentials");
    assert_eq!(r.body["field"], "password", "{}", r.text);
    b.post("/api/auth/two-factor/enable", json!({}))
        .await
        .assert_error(400, "invalid_input");
    assert_eq!(b.get("/api/auth/session").await.status, 200, "the session is untouched");
});

both!(
    two_factor_codes_typed_while_signed_in_are_limited_and_lock,
    |t| async move {
        t.set_policy(&[("lockout.threshold", "3")]).await;
        t.user("ana@example.com", Role::User).await;
        let b = t.signed_in("ana@example.com").await;
        let (secret, _) = enrol(&t, &b).await;
        t.advance(30 * SECOND);
        let wrong = |n: u32| {
            format!(
                "{:06}",
                (totp_code(&secret, t.now()).parse::<u32>().unwrap() + n) % 1_000_000
            )
        };
        for n in 1..3 {
            b.post("/api/auth/two-factor/disable", json!({ "code": wrong(n * 7919) }))
                .await
                .assert_error(400, "invalid_totp");
        }
        b.post("/api/auth/two-factor/disable", json!({ "code": wrong(3 * 7919) }))
            .await
            .assert_error(429, "locked");
        b.post(
            "/api/auth/two-factor/disable",
            json!({ "code": totp_code(&secret, t.now()) }),
        )
        .await
        .assert_error(429, "locked");
        assert_eq!(
            b.get("/api/auth/session").await.body["user"]["totp_enabled"],
            true,
            "still on"
        );

        // Confirming an enrolment: a budget of codes per account, whatever the address.
        t.user("bob@example.com", Role::User).await;
        let s = t
            .server_with(|_| {}, limits(|l| l.second_factor_per_account = per_minute(2)))
            .await;
        let bob = Browser::new(&s.base, FIREFOX_LINUX);
        bob.sign_in("bob@example.com", PASSWORD).await;
        bob.post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
            .await;
        for _ in 0..2 {
            bob.post("/api/auth/two-factor/verify", json!({ "code": "not a code" }))
                .await
                .assert_error(400, "invalid_totp");
        }
        let r = bob
            .post("/api/auth/two-factor/verify", json!({ "code": "not a code" }))
            .await;
        r.assert_error(429, "rate_limited");
        assert!(r.headers.get("retry-after").is_some());
    }
);
