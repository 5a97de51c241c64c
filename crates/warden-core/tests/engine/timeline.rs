//! A user's timeline: which sessions it shows for a range, where each bar ends and why, the marks on
//! the bars and on the account's axis, the range bounds, roles and bad input.

use std::sync::atomic::AtomicBool;

use uuid::Uuid;
use warden_core::ops::admin;
use warden_core::ops::bulk::{self, BulkRequest, BulkTarget};
use warden_core::ops::sessions::{self, ClientInfo};
use warden_core::ops::timeline::{self, MarkKind, SessionOutcome, UserTimeline};
use warden_core::{Role, Secret};

use crate::support::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

fn from(ip: &str, country: &str, agent: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.into()),
        user_agent: Some(agent.into()),
        country: Some(country.into()),
        city: None,
        client: Some("web".into()),
    }
}

/// A mark as a test compares it: time from START, kind, session position, address, detail.
type MarkShown<'a> = (i64, MarkKind, Option<u32>, Option<&'a str>, Option<&'a str>);

async fn timeline_of(t: &T, user: Uuid, from: i64, to: i64) -> UserTimeline {
    let admin = t.admin_actor().await;
    timeline::user_timeline(&t.db, &admin, user, from, to, t.now())
        .await
        .unwrap_or_else(|e| panic!("timeline [{from}, {to}]: {e}"))
}

/// The life of one account, at known times from START:
/// - 0h: session A from 10.0.0.1 (DE, desktop); 1h: session B (FR, phone), signed out at 2h;
/// - 25h: A used from 10.0.0.9 (a refresh and an IP change); 26h: an admin ends A;
/// - 27h: session C, never used again (idle after 3 days);
/// - 28h and 28h01: two wrong passwords lock the account (threshold 2, 15 minutes);
/// - 4d: session D, still live at 5d.
///
/// Another user's session runs beside them all the time.
struct Story {
    ana: Uuid,
    a: Uuid,
    b: Uuid,
    c: Uuid,
    d: Uuid,
    c_token: Secret,
}

async fn story(t: &T) -> Story {
    t.set_policy(&[("lockout.threshold", "2"), ("lockout.duration", "15m")])
        .await;
    t.admin_actor().await;
    let ana = t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    t.sign_in_with("bob@example.com", &from("10.9.9.9", "US", FIREFOX))
        .await;

    let (a, a_token) = t
        .sign_in_with("ana@example.com", &from("10.0.0.1", "DE", FIREFOX))
        .await;
    t.advance(HOUR);
    let (b, b_token) = t.sign_in_with("ana@example.com", &from("10.0.0.2", "FR", IPHONE)).await;
    t.advance(HOUR);
    let me = t.validate(&b_token).await.expect("B is live");
    sessions::sign_out(&t.db, t.now(), &me).await.expect("sign out of B");
    t.advance(23 * HOUR);
    sessions::validate(
        &t.db,
        t.now(),
        &a_token,
        &ClientInfo {
            ip: Some("10.0.0.9".into()),
            ..Default::default()
        },
    )
    .await
    .expect("A is used from a new address and refreshed");
    t.advance(HOUR);
    let admin = t.admin_actor().await;
    admin::revoke_session(&t.db, &admin, t.now(), a.id, "reported stolen")
        .await
        .expect("the admin ends A");
    t.advance(HOUR);
    let (c, c_token) = t
        .sign_in_with("ana@example.com", &from("10.0.0.3", "DE", FIREFOX))
        .await;
    t.advance(HOUR);
    let _ = t
        .try_sign_in("ana@example.com", WRONG_PASSWORD, &from("192.0.2.7", "NL", FIREFOX))
        .await;
    t.advance(MINUTE);
    let locked = t
        .try_sign_in("ana@example.com", WRONG_PASSWORD, &from("192.0.2.7", "NL", FIREFOX))
        .await;
    assert_code(locked, "locked", "the second failure locks the account");
    t.clock.set(START + 4 * DAY);
    let (d, _) = t
        .sign_in_with("ana@example.com", &from("10.0.0.4", "DE", FIREFOX))
        .await;
    t.clock.set(START + 5 * DAY);
    Story {
        ana,
        a: a.id,
        b: b.id,
        c: c.id,
        d: d.id,
        c_token,
    }
}

both!(
    timeline_shows_each_session_from_its_start_to_its_end_and_why_it_ended,
    |t| async move {
        let s = story(&t).await;
        let tl = timeline_of(&t, s.ana, START - HOUR, t.now()).await;
        assert_eq!(tl.user_id, s.ana);
        assert_eq!((tl.from, tl.to, tl.now), (START - HOUR, t.now(), t.now()));
        assert!(!tl.truncated);
        let ids: Vec<Uuid> = tl.sessions.iter().map(|x| x.id).collect();
        assert_eq!(ids, vec![s.a, s.b, s.c, s.d], "ana's sessions only, oldest first");
        let shape: Vec<(i64, Option<i64>, SessionOutcome)> = tl
            .sessions
            .iter()
            .map(|x| (x.created_at - START, x.ended_at.map(|e| e - START), x.outcome))
            .collect();
        assert_eq!(
            shape,
            vec![
                (0, Some(26 * HOUR), SessionOutcome::Admin),
                (HOUR, Some(2 * HOUR), SessionOutcome::UserLogout),
                // Never used after it began: idle 3 days (and a millisecond) after that.
                (27 * HOUR, Some(27 * HOUR + 3 * DAY + 1), SessionOutcome::Idle),
                (4 * DAY, None, SessionOutcome::Live),
            ]
        );
        let a = &tl.sessions[0];
        assert_eq!(a.ip.as_deref(), Some("10.0.0.9"), "the latest address");
        assert_eq!(a.country.as_deref(), Some("DE"));
        assert_eq!(a.device, "desktop");
        assert_eq!(a.revoked_by.as_deref(), Some("root@example.com"));
        assert_eq!(tl.sessions[1].device, "mobile");
        assert!(tl.sessions.iter().all(|x| !x.is_current && !x.privileged));
    }
);

both!(
    timeline_marks_refreshes_ip_changes_revocations_failures_and_locks,
    |t| async move {
        let s = story(&t).await;
        let tl = timeline_of(&t, s.ana, START - HOUR, t.now()).await;
        let marks: Vec<MarkShown> = tl
            .marks
            .iter()
            .map(|m| (m.at - START, m.kind, m.session, m.ip.as_deref(), m.detail.as_deref()))
            .collect();
        assert_eq!(
            marks,
            vec![
                (2 * HOUR, MarkKind::Revoked, Some(1), None, Some("user_logout")),
                (25 * HOUR, MarkKind::Refreshed, Some(0), None, None),
                (
                    25 * HOUR,
                    MarkKind::IpChanged,
                    Some(0),
                    Some("10.0.0.9"),
                    Some("from 10.0.0.1")
                ),
                (26 * HOUR, MarkKind::Revoked, Some(0), None, Some("admin")),
                (
                    28 * HOUR,
                    MarkKind::SignInFailed,
                    None,
                    Some("192.0.2.7"),
                    Some("bad_password")
                ),
                (
                    28 * HOUR + MINUTE,
                    MarkKind::SignInFailed,
                    None,
                    Some("192.0.2.7"),
                    Some("bad_password")
                ),
                (28 * HOUR + MINUTE, MarkKind::Locked, None, None, None),
            ],
            "in time order; a mark on a bar names its session by position"
        );
        let lock = tl.marks.last().unwrap();
        assert_eq!(
            lock.until,
            Some(START + 28 * HOUR + MINUTE + 15 * MINUTE),
            "the lock says until when"
        );

        // An unlock by support shows with who and why.
        let support = t.support_actor().await;
        admin::unlock_user(&t.db, &support, t.now(), "ana@example.com", "caller verified")
            .await
            .unwrap();
        let tl = timeline_of(&t, s.ana, START - HOUR, t.now()).await;
        let last = tl.marks.last().unwrap();
        assert_eq!(last.kind, MarkKind::Unlocked);
        assert_eq!(last.detail.as_deref(), Some("by helpdesk@example.com: caller verified"));
    }
);

both!(
    timeline_range_bounds_are_inclusive_and_leave_out_what_lies_outside,
    |t| async move {
        let s = story(&t).await;
        // Between B's end and C's start, only A was alive, and nothing happened to it.
        let tl = timeline_of(&t, s.ana, START + 3 * HOUR, START + 24 * HOUR).await;
        assert_eq!(tl.sessions.iter().map(|x| x.id).collect::<Vec<_>>(), vec![s.a]);
        assert!(tl.marks.is_empty(), "no mark falls in [3h, 24h]");
        // From the very instant B ended to the very instant C began: both ends count.
        let tl = timeline_of(&t, s.ana, START + 2 * HOUR, START + 27 * HOUR).await;
        assert_eq!(
            tl.sessions.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![s.a, s.b, s.c]
        );
        assert_eq!(tl.marks.first().map(|m| m.at), Some(START + 2 * HOUR));
        assert_eq!(tl.marks.last().map(|m| m.at), Some(START + 26 * HOUR));
        // The last 12 hours: C had gone idle long before (its row is still unrevoked: nothing has seen it
        // since), and D is live.
        let tl = timeline_of(&t, s.ana, t.now() - 12 * HOUR, t.now()).await;
        assert_eq!(tl.sessions.iter().map(|x| x.id).collect::<Vec<_>>(), vec![s.d]);
        // Up to the millisecond before D began: C's idle days, not D.
        let tl = timeline_of(&t, s.ana, START + 5 * HOUR, START + 4 * DAY - 1).await;
        assert_eq!(
            tl.sessions.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![s.a, s.c],
            "D began after that range"
        );
    }
);

both!(
    a_session_found_idle_later_still_ends_when_it_went_idle,
    |t| async move {
        let s = story(&t).await;
        // C is presented now, days after it went idle: the engine records it ended (idle) when it went
        // idle, not at this instant.
        assert_code(t.validate(&s.c_token).await, "unauthenticated", "C is idle");
        let row = t.session(s.c).await;
        assert_eq!(
            (row.revoked_at, row.revoke_reason.as_deref()),
            (Some(START + 27 * HOUR + 3 * DAY + 1), Some("idle"))
        );
        let tl = timeline_of(&t, s.ana, START, t.now()).await;
        let c = tl.sessions.iter().find(|x| x.id == s.c).unwrap();
        assert_eq!(
            (c.ended_at, c.outcome),
            (Some(START + 27 * HOUR + 3 * DAY + 1), SessionOutcome::Idle),
            "the bar ends when it went idle, not when that was noticed"
        );
    }
);

both!(timeline_tells_bulk_and_emergency_endings_apart, |t| async move {
    let admin = t.admin_actor().await;
    let ana = t.user("ana@example.com", Role::User).await;
    let (one, _) = t
        .sign_in_with("ana@example.com", &from("10.0.0.1", "DE", FIREFOX))
        .await;
    let (two, _) = t
        .sign_in_with("ana@example.com", &from("10.0.0.2", "FR", FIREFOX))
        .await;
    t.advance(MINUTE);
    let cancel = AtomicBool::new(false);
    let run = |target: BulkTarget| BulkRequest {
        target,
        include_own: false,
        reason: "incident 9".into(),
        batch_size: None,
    };
    bulk::run(
        &t.db,
        &admin,
        &t.clock,
        &run(BulkTarget::Sessions(vec![one.id])),
        &cancel,
        &mut |_| {},
    )
    .await
    .unwrap();
    t.advance(MINUTE);
    bulk::run(
        &t.db,
        &admin,
        &t.clock,
        &run(BulkTarget::Everyone),
        &cancel,
        &mut |_| {},
    )
    .await
    .unwrap();
    let tl = timeline_of(&t, ana, START, t.now()).await;
    let outcomes: Vec<(Uuid, SessionOutcome)> = tl.sessions.iter().map(|x| (x.id, x.outcome)).collect();
    assert_eq!(
        outcomes,
        vec![(one.id, SessionOutcome::Bulk), (two.id, SessionOutcome::Emergency)]
    );
});

both!(timeline_marks_the_consoles_own_session_and_elevations, |t| async move {
    let id = t.user("ops@example.com", Role::Support).await;
    let (session, token) = t
        .sign_in_with("ops@example.com", &from("10.1.1.1", "SE", FIREFOX))
        .await;
    t.advance(5 * MINUTE);
    let me = t.validate(&token).await.unwrap();
    warden_core::ops::auth::reauthenticate(
        &t.db,
        t.now(),
        None,
        &me,
        &Secret::new(PASSWORD),
        None,
        &ClientInfo::default(),
    )
    .await
    .expect("re-authenticate");
    let mut actor = t.actor_for(id, "ops@example.com", Role::Support);
    actor.session_id = Some(session.id);
    let actor = warden_core::model::authz::Staff::for_tests(actor);
    let tl = timeline::user_timeline(&t.db, &actor, id, START, t.now(), t.now())
        .await
        .expect("support may read a timeline");
    assert_eq!(tl.sessions.len(), 1);
    assert!(tl.sessions[0].is_current, "the asking console's session is marked");
    assert!(tl.sessions[0].privileged);
    assert_eq!(tl.sessions[0].outcome, SessionOutcome::Live);
    assert!(
        tl.marks
            .iter()
            .any(|m| m.kind == MarkKind::Elevated && m.session == Some(0) && m.at == START + 5 * MINUTE),
        "the re-authentication is on the bar: {:?}",
        tl.marks
    );
});

both!(
    timeline_refuses_bad_ranges_unknown_users_and_plain_users,
    |t| async move {
        let admin = t.admin_actor().await;
        let ana = t.user("ana@example.com", Role::User).await;
        let now = t.now();
        let e = assert_code(
            timeline::user_timeline(&t.db, &admin, ana, now, now - HOUR, now).await,
            "invalid_input",
            "from after to",
        );
        assert_eq!(e.field(), Some("to"));
        assert!(e.to_string().contains("later than from"), "{e}");
        let e = assert_code(
            timeline::user_timeline(&t.db, &admin, ana, now - 400 * DAY, now, now).await,
            "invalid_input",
            "a range of 400 days",
        );
        assert_eq!(e.field(), Some("from"));
        assert!(e.to_string().contains("366 days"), "{e}");
        assert!(timeline::user_timeline(&t.db, &admin, ana, now - 366 * DAY, now, now)
            .await
            .is_ok());
        let unknown = Uuid::now_v7();
        let e = assert_code(
            timeline::user_timeline(&t.db, &admin, unknown, now - DAY, now, now).await,
            "user_not_found",
            "an unknown user",
        );
        assert!(e.to_string().contains(&unknown.to_string()), "{e}");
        let plain = t.staff_for(ana, "ana@example.com", Role::User);
        assert_code(
            timeline::user_timeline(&t.db, &plain, ana, now - DAY, now, now).await,
            "forbidden",
            "a plain user may not read timelines",
        );
        let support = t.support_actor().await;
        assert!(timeline::user_timeline(&t.db, &support, ana, now - DAY, now, now)
            .await
            .is_ok());
    }
);

both!(
    timeline_keeps_a_session_that_outlived_a_lifetime_shortened_since,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let (s, token) = t
            .sign_in_with("ana@example.com", &from("10.0.0.1", "DE", FIREFOX))
            .await;
        // Used every other day for 20 days under the default 30-day lifetime.
        for _ in 0..10 {
            t.advance(2 * DAY);
            t.validate(&token).await.expect("still valid");
        }
        // Then the lifetime is cut to 7 days: under the new rule it is over, and its last use was day 20.
        t.set_policy(&[("session.max_lifetime", "7d")]).await;
        t.advance(DAY);
        let tl = timeline_of(&t, ana, t.now() - DAY, t.now()).await;
        assert_eq!(
            tl.sessions
                .iter()
                .map(|x| (x.id, x.ended_at, x.outcome))
                .collect::<Vec<_>>(),
            vec![(s.id, Some(START + 20 * DAY), SessionOutcome::Absolute)],
            "a session begun 21 days ago, longer than the 7 days allowed now, was in use within the range"
        );
    }
);
