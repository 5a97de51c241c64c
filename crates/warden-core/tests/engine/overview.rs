//! The overview: active sessions with their countries and devices, sign-ins and failures per hour over
//! seven days, the accounts locked now and the latest admin actions, against data seeded at known times.

use warden_core::model::authz::Admin;
use warden_core::ops::admin;
use warden_core::ops::overview::{self, HourCount, Overview, HOURS};
use warden_core::ops::sessions::{self, ClientInfo};
use warden_core::Role;

use crate::support::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

fn from(country: &str, agent: &str) -> ClientInfo {
    ClientInfo {
        ip: Some("198.51.100.4".into()),
        user_agent: Some(agent.into()),
        country: Some(country.into()),
        city: None,
        client: Some("web".into()),
    }
}

/// 2026-01-08T00:30Z: the chart's hours run from 2026-01-01T01:00Z (index 0) to 2026-01-08T00:00Z
/// (index 167, the hour in progress).
const NOW: i64 = START + 7 * DAY + 30 * MINUTE;

fn index_of(at: i64) -> usize {
    ((at - (START + HOUR)) / HOUR) as usize
}

async fn fail_twice(t: &T, email: &str) {
    for _ in 0..2 {
        let _ = t.try_sign_in(email, WRONG_PASSWORD, &from("NL", FIREFOX)).await;
        t.advance(MINUTE);
    }
}

/// Sessions, attempts, locks and admin actions at known hours; returns the overview at NOW.
async fn seeded(t: &T) -> Overview {
    t.set_policy(&[
        ("lockout.threshold", "2"),
        ("lockout.duration", "15m"),
        ("lockout.permanent_after", "2"),
    ])
    .await;
    let admin = t.admin_actor().await;
    t.support_actor().await;
    for who in ["ana", "bob", "cy", "dee", "eve", "fay"] {
        t.user(&format!("{who}@example.com"), Role::User).await;
    }
    // Before the chart's first hour: a sign-in it does not count, whose session has expired by NOW.
    t.clock.set(START + 30 * MINUTE);
    t.sign_in_with("ana@example.com", &from("DE", FIREFOX)).await;
    // 2026-01-01T02:00: one wrong password.
    t.clock.set(START + 2 * HOUR);
    let _ = t
        .try_sign_in("bob@example.com", WRONG_PASSWORD, &from("NL", FIREFOX))
        .await;
    // Day 2: fay is locked, then unlocked by support.
    t.clock.set(START + 2 * DAY);
    fail_twice(t, "fay@example.com").await;
    t.clock.set(START + 2 * DAY + HOUR);
    let support = t.support_actor().await;
    admin::unlock_user(&t.db, &support, t.now(), "fay@example.com", "caller verified by phone")
        .await
        .unwrap();
    // Day 3: eve is locked twice within a day: the second lock is permanent.
    t.clock.set(START + 3 * DAY);
    fail_twice(t, "eve@example.com").await;
    t.clock.set(START + 3 * DAY + HOUR);
    fail_twice(t, "eve@example.com").await;
    // Day 6, 02:00: three sign-ins (DE desktop, FR phone, DE phone), and an unknown email.
    t.clock.set(START + 6 * DAY + 2 * HOUR);
    t.sign_in_with("ana@example.com", &from("DE", FIREFOX)).await;
    t.sign_in_with("bob@example.com", &from("FR", IPHONE)).await;
    t.sign_in_with("cy@example.com", &from("DE", IPHONE)).await;
    t.advance(10 * MINUTE);
    let _ = t
        .try_sign_in("nobody@example.com", WRONG_PASSWORD, &from("NL", FIREFOX))
        .await;
    // Day 6, 03:00: two more sessions; an admin ends bob's, cy signs out of hers.
    t.clock.set(START + 6 * DAY + 3 * HOUR);
    let (bob2, _) = t.sign_in_with("bob@example.com", &from("FR", IPHONE)).await;
    let (_, cy2) = t.sign_in_with("cy@example.com", &from("DE", FIREFOX)).await;
    t.advance(MINUTE);
    let admin = Admin::for_tests(warden_core::Actor {
        authenticated_at: t.now(),
        ..admin.actor().clone()
    });
    admin::revoke_session(&t.db, &admin, t.now(), bob2.id, "lost phone")
        .await
        .unwrap();
    let me = t.validate(&cy2).await.unwrap();
    sessions::sign_out(&t.db, t.now(), &me).await.unwrap();
    // The hour in progress: dee is locked, then tries again while locked.
    t.clock.set(START + 7 * DAY + 25 * MINUTE);
    fail_twice(t, "dee@example.com").await;
    let _ = t.try_sign_in("dee@example.com", PASSWORD, &from("NL", FIREFOX)).await;
    t.clock.set(NOW);
    overview::overview(&t.db, &admin, NOW).await.expect("the overview")
}

both!(overview_counts_active_sessions_by_country_and_device, |t| async move {
    let o = seeded(&t).await;
    assert_eq!(o.at, NOW);
    assert_eq!(
        o.active_sessions, 3,
        "ana, bob and cy from day 6; not the expired, revoked or signed-out ones"
    );
    let countries: Vec<(Option<&str>, u64)> = o.countries.iter().map(|s| (s.value.as_deref(), s.sessions)).collect();
    assert_eq!(countries, vec![(Some("DE"), 2), (Some("FR"), 1)]);
    let devices: Vec<(Option<&str>, u64)> = o.devices.iter().map(|s| (s.value.as_deref(), s.sessions)).collect();
    assert_eq!(devices, vec![(Some("mobile"), 2), (Some("desktop"), 1)]);
});

both!(overview_buckets_sign_ins_and_failures_per_hour_in_sql, |t| async move {
    let o = seeded(&t).await;
    assert_eq!(o.hours.len(), HOURS);
    assert_eq!(o.hours[0].start, START + HOUR, "seven days back, to the hour");
    assert_eq!(
        o.hours[HOURS - 1].start,
        START + 7 * DAY,
        "the hour in progress is the last"
    );
    let nonzero: Vec<(usize, u32, u32)> = o
        .hours
        .iter()
        .enumerate()
        .filter(|(_, h)| h.sign_ins > 0 || h.failures > 0)
        .map(|(i, h): (usize, &HourCount)| (i, h.sign_ins, h.failures))
        .collect();
    assert_eq!(
        nonzero,
        vec![
            (index_of(START + 2 * HOUR), 0, 1),
            (index_of(START + 2 * DAY), 0, 2),
            (index_of(START + 3 * DAY), 0, 2),
            (index_of(START + 3 * DAY + HOUR), 0, 2),
            (index_of(START + 6 * DAY + 2 * HOUR), 3, 1),
            (index_of(START + 6 * DAY + 3 * HOUR), 2, 0),
            (HOURS - 1, 0, 3),
        ],
        "an unknown email and an attempt on a locked account are failures too; 00:30 on day 0 is outside"
    );
});

both!(overview_lists_the_accounts_locked_now, |t| async move {
    let o = seeded(&t).await;
    assert_eq!(
        o.locked_accounts, 2,
        "dee (for 15 minutes) and eve (permanently); fay was unlocked"
    );
    let locked: Vec<(&str, bool)> = o
        .locked
        .iter()
        .map(|l| (l.email.as_str(), l.locked_permanently))
        .collect();
    assert_eq!(
        locked,
        vec![("dee@example.com", false), ("eve@example.com", true)],
        "the most recently locked first"
    );
    let dee = &o.locked[0];
    assert_eq!(dee.locked_at, Some(START + 7 * DAY + 26 * MINUTE));
    assert_eq!(dee.locked_until, Some(START + 7 * DAY + 41 * MINUTE));
    assert_eq!(dee.last_failed_ip.as_deref(), Some("198.51.100.4"));
    assert_eq!(o.locked[1].locked_until, None, "a permanent lock has no end");

    // Fifteen minutes later dee's lock has run out.
    let admin = t.admin_actor().await;
    let later = overview::overview(&t.db, &admin, NOW + 15 * MINUTE).await.unwrap();
    assert_eq!(later.locked_accounts, 1);
    assert_eq!(later.locked[0].email, "eve@example.com");
});

both!(
    overview_shows_the_latest_admin_actions_not_self_service,
    |t| async move {
        let o = seeded(&t).await;
        let actions: Vec<(&str, Option<&str>)> = o
            .admin_actions
            .iter()
            .map(|e| (e.action.as_str(), e.reason.as_deref()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("session.revoked", Some("lost phone")),
                ("user.unlocked", Some("caller verified by phone")),
                ("policy.updated", Some("tests")),
                ("policy.updated", Some("tests")),
            ],
            "newest first; cy signing herself out is not an admin action"
        );
        assert!(o.admin_actions.windows(2).all(|w| w[0].seq > w[1].seq));
    }
);

both!(overview_is_for_support_and_security_admins, |t| async move {
    let ana = t.user("ana@example.com", Role::User).await;
    let plain = t.staff_for(ana, "ana@example.com", Role::User);
    assert_code(
        overview::overview(&t.db, &plain, t.now()).await,
        "forbidden",
        "a plain user has no overview",
    );
    let support = t.support_actor().await;
    let o = overview::overview(&t.db, &support, t.now())
        .await
        .expect("support may read the overview");
    assert_eq!(o.active_sessions, 0);
    assert_eq!(o.hours.len(), HOURS);
    assert!(o.hours.iter().all(|h| h.sign_ins == 0 && h.failures == 0));
    assert!(o.locked.is_empty() && o.countries.is_empty() && o.devices.is_empty());
});
