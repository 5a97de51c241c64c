//! When and how a session ended, as every screen reads it: a stored end is a fact, a rule's end is
//! recorded (row, timeline, audit) with the instant it really happened, a policy saved later never
//! rewrites it, a short idle timeout is honoured, and a failed revocation leaves its audit record.

use serde_json::Value;
use uuid::Uuid;
use warden_core::ops::admin;
use warden_core::ops::sessions;
use warden_core::ops::timeline::{self, SessionOutcome};
use warden_core::Role;

use crate::support::*;

/// The bar of session `id` on its owner's timeline, from `from` to now: (end, outcome).
async fn bar(t: &T, user: Uuid, id: Uuid, from: i64) -> (Option<i64>, SessionOutcome) {
    let admin = t.admin_actor().await;
    let tl = timeline::user_timeline(&t.db, &admin, user, from, t.now(), t.now())
        .await
        .expect("timeline");
    let s = tl
        .sessions
        .iter()
        .find(|s| s.id == id)
        .expect("the session is on the timeline");
    (s.ended_at, s.outcome)
}

fn meta(e: &warden_core::ops::audit::AuditEvent) -> Value {
    serde_json::from_str(&e.metadata).expect("audit metadata is JSON")
}

both!(
    an_administrators_end_stays_the_end_after_a_tighter_idle_timeout_is_saved,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let start = t.now();
        let (s, token) = t.sign_in("ana@example.com").await;
        t.advance(HOUR);
        t.validate(&token).await.expect("used an hour in");
        t.advance(DAY);
        let admin = t.admin_actor().await;
        admin::revoke_session(&t.db, &admin, t.now(), s.id, "support ticket 7")
            .await
            .expect("support ends it");
        let ended = t.now();
        // Then the idle timeout is cut to one hour: under today's rule it "went idle" a day earlier.
        t.advance(HOUR);
        t.set_policy(&[("session.idle_timeout", "1h")]).await;
        t.advance(DAY);
        assert_eq!(
            bar(&t, ana, s.id, start).await,
            (Some(ended), SessionOutcome::Admin),
            "the timeline reads the stored end, as the tables do"
        );
        let detail = admin::user_detail(&t.db, &admin, "ana@example.com", t.now())
            .await
            .unwrap();
        assert_eq!(detail.sessions[0].status.as_str(), "revoked");
        assert_eq!(detail.sessions[0].session.revoked_at, Some(ended));
    }
);

both!(
    a_session_found_over_records_when_it_really_ended_once_in_row_timeline_and_audit,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let start = t.now();
        let (s, token) = t.sign_in("ana@example.com").await;
        t.advance(HOUR);
        t.validate(&token).await.expect("used an hour in");
        // Found five days later: it went idle three days after its last use (the default timeout).
        t.advance(5 * DAY);
        let went_idle = start + HOUR + 3 * DAY + 1;
        assert_code(t.validate(&token).await, "unauthenticated", "idle");
        assert_code(t.validate(&token).await, "unauthenticated", "still idle");
        let row = t.session(s.id).await;
        assert_eq!(
            (row.revoked_at, row.revoke_reason.as_deref()),
            (Some(went_idle), Some("idle"))
        );
        assert_eq!(row.revoked_by, None, "no person ended it");
        let ended = t.audit_action("session.ended").await;
        assert_eq!(ended.len(), 1, "one record, however often the token is presented");
        let e = &ended[0];
        assert_eq!((e.target_user_id, e.target_session_id), (Some(ana), Some(s.id)));
        assert_eq!((e.actor_kind.as_str(), e.status.as_str()), ("system", "success"));
        assert_eq!(e.at, t.now(), "recorded when it was found");
        assert_eq!(meta(e)["reason"], "idle");
        assert_eq!(meta(e)["ended_at"], went_idle, "with when it really ended");
        assert_eq!(bar(&t, ana, s.id, start).await, (Some(went_idle), SessionOutcome::Idle));
        let admin = t.admin_actor().await;
        let status = admin::user_detail(&t.db, &admin, "ana@example.com", t.now())
            .await
            .unwrap()
            .sessions[0]
            .status;
        assert_eq!(status.as_str(), "idle", "the tables say idle, like the timeline");
    }
);

both!(
    a_tightened_policy_ends_a_session_from_its_save_on_never_before,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let start = t.now();
        let (s, token) = t.sign_in("ana@example.com").await;
        t.advance(HOUR);
        t.validate(&token).await.expect("used an hour in");
        t.advance(DAY);
        let saved = t.now();
        t.set_policy(&[("session.idle_timeout", "1h")]).await;
        t.advance(DAY);
        // Not yet found: the timeline computes its end by the policy of each moment.
        assert_eq!(bar(&t, ana, s.id, start).await, (Some(saved), SessionOutcome::Idle));
        assert_code(t.validate(&token).await, "unauthenticated", "idle under the new rule");
        assert_eq!(t.session(s.id).await.revoked_at, Some(saved));
        assert_eq!(bar(&t, ana, s.id, start).await, (Some(saved), SessionOutcome::Idle));
    }
);

both!(
    revoking_a_users_sessions_does_not_claim_those_a_rule_had_ended,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let start = t.now();
        let (old, _) = t.sign_in("ana@example.com").await;
        t.advance(4 * DAY);
        let (new, _) = t.sign_in("ana@example.com").await;
        let admin = t.admin_actor().await;
        let n = admin::revoke_user_sessions(&t.db, &admin, t.now(), "ana@example.com", "account review")
            .await
            .unwrap();
        assert_eq!(n, 1, "only the live session was ended by the administrator");
        let old = t.session(old.id).await;
        assert_eq!(
            (old.revoked_at, old.revoke_reason.as_deref()),
            (Some(start + 3 * DAY + 1), Some("idle")),
            "the one idle for a day ended when it went idle"
        );
        assert_eq!(t.session(new.id).await.revoke_reason.as_deref(), Some("admin"));
        assert_eq!(t.audit_action("session.ended").await.len(), 1);
        let revoked = t.audit_action("user.sessions_revoked").await;
        assert_eq!(meta(&revoked[0])["count"], 1);
    }
);

both!(
    a_failed_revocation_is_audited_alike_for_unknown_and_foreign_ids,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        t.user("bob@example.com", Role::User).await;
        let (_, ana_token) = t.sign_in("ana@example.com").await;
        let (bobs, _) = t.sign_in("bob@example.com").await;
        let me = t.validate(&ana_token).await.unwrap();
        let unknown = Uuid::now_v7();
        for id in [unknown, bobs.id] {
            assert_code(
                sessions::revoke_own(&t.db, t.now(), &me, id).await,
                "session_not_found",
                "unknown and foreign ids answer alike",
            );
        }
        assert!(t.session(bobs.id).await.revoked_at.is_none(), "bob's session lives");
        let failed: Vec<_> = t
            .audit_action("session.revoked")
            .await
            .into_iter()
            .filter(|e| e.status == "failure")
            .collect();
        assert_eq!(failed.len(), 2, "each attempt is audited");
        for (e, id) in failed.iter().zip([unknown, bobs.id]) {
            assert_eq!(
                (e.actor_id, e.target_user_id, e.target_session_id),
                (Some(ana), Some(ana), Some(id))
            );
        }
        assert_eq!(meta(&failed[0]), meta(&failed[1]), "nothing tells the two apart");

        let admin = t.admin_actor().await;
        assert_code(
            admin::revoke_session(&t.db, &admin, t.now(), unknown, "ticket 9").await,
            "session_not_found",
            "an administrator's unknown id",
        );
        let failed = t
            .audit_action("session.revoked")
            .await
            .into_iter()
            .filter(|e| e.status == "failure")
            .count();
        assert_eq!(failed, 3, "an administrator's failed attempt is audited too");
    }
);

both!(a_session_used_within_a_short_idle_timeout_stays_valid, |t| async move {
    t.user("ana@example.com", Role::User).await;
    for (idle, every) in [("90s", 50 * SECOND), ("10s", 4 * SECOND)] {
        t.set_policy(&[("privileged.idle_timeout", idle), ("session.idle_timeout", idle)])
            .await;
        let (_, token) = t.sign_in("ana@example.com").await;
        for k in 1..=30 {
            t.advance(every);
            t.validate(&token)
                .await
                .unwrap_or_else(|e| panic!("idle {idle}, a request every {every} ms: refused at #{k}: {e}"));
        }
        let me = t.validate(&token).await.unwrap();
        assert!(me.session.last_seen_at <= t.now(), "last active is never in the future");
    }
});
