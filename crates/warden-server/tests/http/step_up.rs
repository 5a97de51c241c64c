//! Step-up after a flag (seed 002.24: "WHEN detecting unusual session patterns THEN the system SHALL flag
//! the activity for review AND potentially require additional authentication"): a session whose sign-in
//! was flagged, while the flag is open, proves again who holds it before it ends other sessions or
//! changes two-factor. Signing out is always allowed; staff acting on the user are never asked.

use serde_json::json;
use warden_core::ops::flags::{self, FlagQuery, Resolution};
use warden_core::Role;

use crate::support::*;

/// A browser behind the trusted proxy, in `country`.
fn from(t: &T, country: &str) -> Browser {
    Browser::with_headers(
        &t.server.base,
        FIREFOX_LINUX,
        &[("x-forwarded-for", "198.51.100.7"), ("cf-ipcountry", country)],
    )
}

/// `email` signs in in Berlin, is active there, and twenty minutes later signs in in Rio: impossible
/// travel, so the Rio session is flagged. Returns both browsers.
async fn berlin_then_rio(t: &T, email: &str) -> (Browser, Browser) {
    let berlin = from(t, "DE");
    assert_eq!(berlin.sign_in(email, PASSWORD).await.status, 200);
    t.advance(20 * MINUTE);
    berlin.get("/api/sessions").await;
    let rio = from(t, "BR");
    assert_eq!(rio.sign_in(email, PASSWORD).await.status, 200);
    (berlin, rio)
}

/// Asserts a 403 `reauth_required` that says why and what to do.
#[track_caller]
fn assert_step_up(r: &Resp, what: &str) {
    r.assert_error(403, "reauth_required");
    let m = r.body["message"].as_str().unwrap();
    assert!(
        m.contains("flagged as unusual (impossible travel)") && m.contains("POST /api/auth/reauthenticate"),
        "{what}: the message names the flag and what to do: {m}"
    );
}

both!(
    a_flagged_sign_in_must_step_up_before_ending_other_sessions_or_changing_two_factor,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let (berlin, rio) = berlin_then_rio(&t, "ana@example.com").await;
        let berlin_id = berlin.session_id().await;
        assert_eq!(
            rio.get("/api/auth/session").await.body["step_up_required"],
            true,
            "an app can ask before it tries"
        );
        assert_eq!(
            berlin.get("/api/auth/session").await.body["step_up_required"],
            false,
            "the Berlin sign-in raised nothing"
        );

        assert_step_up(&rio.delete("/api/sessions?scope=others").await, "ending the others");
        assert_step_up(
            &rio.delete(&format!("/api/sessions/{berlin_id}")).await,
            "ending another session",
        );
        assert_step_up(
            &rio.delete(&format!("/api/sessions?session_id={berlin_id}")).await,
            "ending another session by query",
        );
        assert_step_up(
            &rio.post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
                .await,
            "enrolling two-factor",
        );
        assert_eq!(berlin.get("/api/sessions").await.status, 200, "Berlin lives on");
        let own = rio
            .get("/api/sessions/audit?type=session.others_revoked&status=failure")
            .await;
        assert_eq!(own.body["total"], 1, "the refusal is audited: {}", own.text);
        assert_eq!(own.body["events"][0]["metadata"]["error"], "reauth_required");
        assert_eq!(
            own.body["events"][0]["metadata"]["step_up"],
            json!(["impossible_travel"])
        );
        assert_eq!(
            rio.get("/api/sessions/audit?type=session.revoked&status=failure")
                .await
                .body["total"],
            2
        );
        assert_eq!(
            rio.get("/api/sessions/audit?type=user.totp_enabled&status=failure")
                .await
                .body["total"],
            1
        );

        t.advance(MINUTE);
        let r = rio
            .post("/api/auth/reauthenticate", json!({ "password": PASSWORD }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["step_up_required"], false, "{}", r.text);
        assert_eq!(rio.get("/api/auth/session").await.body["step_up_required"], false);
        let r = rio.delete("/api/sessions?scope=others").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["revoked"], 1);
        berlin.get("/api/sessions").await.assert_error(401, "unauthenticated");
        let r = rio
            .post("/api/auth/two-factor/enable", json!({ "password": PASSWORD }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
);

both!(
    the_unflagged_session_ends_the_flagged_one_and_the_flagged_one_may_sign_out,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let (berlin, rio) = berlin_then_rio(&t, "ana@example.com").await;
        let rio_id = rio.session_id().await;
        let r = berlin.delete(&format!("/api/sessions/{rio_id}")).await;
        assert_eq!(
            r.status, 200,
            "the owner at home ends the stranger's session: {}",
            r.text
        );
        rio.get("/api/sessions").await.assert_error(401, "unauthenticated");

        t.user("bob@example.com", Role::User).await;
        let (_, rio) = berlin_then_rio(&t, "bob@example.com").await;
        let r = rio.post("/api/auth/sign-out", json!({})).await;
        assert_eq!(r.status, 200, "signing out is always allowed: {}", r.text);
        t.user("cat@example.com", Role::User).await;
        let (_, rio) = berlin_then_rio(&t, "cat@example.com").await;
        let id = rio.session_id().await;
        let r = rio.delete(&format!("/api/sessions/{id}")).await;
        assert_eq!(r.status, 200, "so is ending the current session by id: {}", r.text);
    }
);

both!(
    a_flagged_session_must_step_up_before_switching_two_factor_off,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let berlin = from(&t, "DE");
        assert_eq!(berlin.sign_in("ana@example.com", PASSWORD).await.status, 200);
        let (secret, _) = crate::two_factor::enrol(&t, &berlin).await;
        t.advance(20 * MINUTE);
        berlin.get("/api/sessions").await;
        let rio = from(&t, "BR");
        assert_eq!(
            rio.sign_in("ana@example.com", PASSWORD).await.body["totp_required"],
            true
        );
        let r = rio
            .post("/api/auth/sign-in/totp", json!({ "code": totp_code(&secret, t.now()) }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        rio.remember_csrf(&r);
        t.advance(30 * SECOND);
        assert_step_up(
            &rio.post(
                "/api/auth/two-factor/disable",
                json!({ "code": totp_code(&secret, t.now()) }),
            )
            .await,
            "switching two-factor off",
        );
        assert_eq!(rio.get("/api/auth/session").await.body["user"]["totp_enabled"], true);
        let r = rio
            .post(
                "/api/auth/reauthenticate",
                json!({ "password": PASSWORD, "code": totp_code(&secret, t.now()) }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        t.advance(30 * SECOND);
        let r = rio
            .post(
                "/api/auth/two-factor/disable",
                json!({ "code": totp_code(&secret, t.now()) }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
);

both!(once_staff_dismiss_the_flag_no_step_up_is_needed, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let (_, rio) = berlin_then_rio(&t, "ana@example.com").await;
    assert_step_up(&rio.delete("/api/sessions?scope=others").await, "before the review");
    let open = flags::page(
        &t.db,
        &t.cli(),
        &FlagQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    flags::resolve(
        &t.db,
        &t.cli(),
        t.now(),
        open.flags[0].id,
        Resolution::Dismissed,
        "she is on holiday in Rio",
    )
    .await
    .unwrap();
    assert_eq!(rio.get("/api/auth/session").await.body["step_up_required"], false);
    let r = rio.delete("/api/sessions?scope=others").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["revoked"], 1);
});

both!(
    with_detection_step_up_off_a_flagged_session_is_not_asked,
    |t| async move {
        t.set_policy(&[("detection.step_up", "false")]).await;
        t.user("ana@example.com", Role::User).await;
        let (_, rio) = berlin_then_rio(&t, "ana@example.com").await;
        assert_eq!(
            t.cli_audit("session.flagged").await,
            1,
            "the sign-in is still flagged for review"
        );
        assert_eq!(rio.get("/api/auth/session").await.body["step_up_required"], false);
        let r = rio.delete("/api/sessions?scope=others").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["revoked"], 1);
    }
);
