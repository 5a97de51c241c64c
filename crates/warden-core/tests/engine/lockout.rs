//! Account lockout: threshold, duration, backoff, permanent locks and unlocking.

use warden_core::ops::admin;
use warden_core::ops::sessions::ClientInfo;
use warden_core::{Error, Role};

use crate::support::*;

async fn fail(t: &T, email: &str) -> Error {
    err(
        t.try_sign_in(email, WRONG_PASSWORD, &ClientInfo::default()).await,
        "wrong password",
    )
}

fn locked_until(e: &Error) -> Option<i64> {
    match e {
        Error::Locked { until } => *until,
        other => panic!("expected locked, got {other:?}"),
    }
}

both!(threshold_failures_lock_for_the_duration, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    // Defaults: threshold 5, duration 15m.
    for i in 1..5 {
        assert_eq!(
            fail(&t, "ana@example.com").await.code(),
            "invalid_credentials",
            "failure {i} is below the threshold"
        );
    }
    let e = fail(&t, "ana@example.com").await;
    assert_eq!(e.code(), "locked", "the 5th failure locks");
    assert_eq!(
        locked_until(&e),
        Some(t.now() + 15 * MINUTE),
        "the lock lasts lockout.duration"
    );
    let e = err(
        t.try_sign_in("ana@example.com", PASSWORD, &ClientInfo::default()).await,
        "right password while locked",
    );
    assert_eq!(e.code(), "locked", "the right password does not open a locked account");
    assert_eq!(
        t.login_attempts().await.last().unwrap().1,
        "locked",
        "the attempt is recorded as locked"
    );
    let ev = t.audit_action("user.locked").await;
    assert_eq!(ev.len(), 1, "the lock is audited");
    assert_eq!(ev[0].target_user_id, Some(uid));
    t.advance(15 * MINUTE - 1);
    assert_eq!(
        err(
            t.try_sign_in("ana@example.com", PASSWORD, &ClientInfo::default()).await,
            ""
        )
        .code(),
        "locked",
        "one millisecond before the end it is still locked"
    );
    t.advance(1);
    t.sign_in("ana@example.com").await;
});

both!(repeated_locks_back_off_up_to_max_duration, |t| async move {
    t.set_policy(&[
        ("lockout.threshold", "2"),
        ("lockout.duration", "10m"),
        ("lockout.max_duration", "30m"),
        ("lockout.backoff", "2"),
    ])
    .await;
    t.user("ana@example.com", Role::User).await;
    for expected in [10 * MINUTE, 20 * MINUTE, 30 * MINUTE, 30 * MINUTE] {
        fail(&t, "ana@example.com").await;
        let e = fail(&t, "ana@example.com").await;
        assert_eq!(
            locked_until(&e),
            Some(t.now() + expected),
            "each lock doubles, capped at max_duration"
        );
        t.advance(expected);
    }
    t.sign_in("ana@example.com").await;
});

both!(permanent_lock_lasts_until_an_admin_unlocks, |t| async move {
    t.set_policy(&[("lockout.threshold", "2"), ("lockout.permanent_after", "2")])
        .await;
    t.user("ana@example.com", Role::User).await;
    fail(&t, "ana@example.com").await;
    let first = fail(&t, "ana@example.com").await;
    assert!(locked_until(&first).is_some(), "the first lock is timed");
    t.advance(15 * MINUTE);
    fail(&t, "ana@example.com").await;
    let second = fail(&t, "ana@example.com").await;
    assert_eq!(second.code(), "locked");
    assert_eq!(locked_until(&second), None, "the permanent_after-th lock is permanent");
    t.advance(30 * DAY);
    let e = err(
        t.try_sign_in("ana@example.com", PASSWORD, &ClientInfo::default()).await,
        "",
    );
    assert_eq!(locked_until(&e), None, "a permanent lock does not wear off");
    let admin = t.admin_actor().await;
    let view = admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", "verified by phone")
        .await
        .unwrap();
    assert!(
        !view.locked && !view.locked_permanently,
        "unlock clears the permanent lock"
    );
    t.sign_in("ana@example.com").await;
});

both!(unlock_clears_the_lock_and_is_audited, |t| async move {
    t.set_policy(&[("lockout.threshold", "2")]).await;
    let uid = t.user("ana@example.com", Role::User).await;
    fail(&t, "ana@example.com").await;
    assert_eq!(fail(&t, "ana@example.com").await.code(), "locked");
    let admin = t.admin_actor().await;
    let view = admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", "user called the helpdesk")
        .await
        .unwrap();
    assert!(!view.locked, "the view says unlocked");
    assert_eq!(view.failed_count, 0);
    assert_eq!(view.lock_count, 0, "unlock forgets the backoff");
    let row = t.user_row(uid).await;
    assert_eq!(row.locked_until, None);
    let ev = t.audit_action("user.unlocked").await;
    assert_eq!(ev.len(), 1, "the unlock is audited");
    assert_eq!(
        ev[0].reason.as_deref(),
        Some("user called the helpdesk"),
        "with its reason"
    );
    assert_eq!(ev[0].actor_id, admin.actor().id, "and its actor");
    assert_eq!(ev[0].actor_label, "root@example.com");
    assert_eq!(ev[0].target_user_id, Some(uid));
    assert!(ev[0].metadata.contains("\"was_locked\":true"), "{}", ev[0].metadata);
    t.sign_in("ana@example.com").await;
});

both!(support_may_unlock_but_a_user_may_not, |t| async move {
    t.set_policy(&[("lockout.threshold", "1")]).await;
    let uid = t.user("ana@example.com", Role::User).await;
    let bob = t.user("bob@example.com", Role::User).await;
    assert_eq!(fail(&t, "ana@example.com").await.code(), "locked");
    let user_actor = t.staff_for(bob, "bob@example.com", Role::User);
    assert_code(
        admin::unlock_user(&t.db, &user_actor, t.now(), "ana@example.com", "please").await,
        "forbidden",
        "an ordinary user may not unlock accounts",
    );
    assert!(
        t.user_row(uid).await.locked_until.is_some(),
        "a forbidden unlock changes nothing"
    );
    assert!(t.audit_action("user.unlocked").await.is_empty(), "and audits no unlock");
    let support = t.support_actor().await;
    admin::unlock_user(&t.db, &support, t.now(), &uid.to_string(), "ticket 42")
        .await
        .expect("support may unlock");
    assert_eq!(
        t.audit_action("user.unlocked").await[0].actor_label,
        "helpdesk@example.com"
    );
    t.sign_in("ana@example.com").await;
});

both!(lowering_the_threshold_applies_on_the_next_failure, |t| async move {
    t.user("ana@example.com", Role::User).await;
    fail(&t, "ana@example.com").await;
    fail(&t, "ana@example.com").await;
    t.set_policy(&[("lockout.threshold", "3")]).await;
    assert_eq!(
        fail(&t, "ana@example.com").await.code(),
        "locked",
        "the third failure meets the new threshold of 3"
    );
});

both!(failures_outside_the_window_are_forgotten, |t| async move {
    t.set_policy(&[("lockout.threshold", "3")]).await;
    t.user("ana@example.com", Role::User).await;
    fail(&t, "ana@example.com").await;
    fail(&t, "ana@example.com").await;
    t.advance(15 * MINUTE + 1);
    assert_eq!(
        fail(&t, "ana@example.com").await.code(),
        "invalid_credentials",
        "failures older than lockout.window do not count"
    );
});

both!(
    an_address_without_an_account_locks_exactly_as_an_account_does,
    |t| async move {
        t.set_policy(&[("lockout.backoff", "2")]).await;
        t.user("ana@example.com", Role::User).await;
        // The same run of failures, side by side: every answer must be the same, lock ends included.
        for round in 1..=2 {
            for i in 1..=6 {
                let real = fail(&t, "ana@example.com").await;
                let ghost = fail(&t, "nobody@example.com").await;
                assert_eq!(
                    (real.code(), real.to_string()),
                    (ghost.code(), ghost.to_string()),
                    "round {round}, failure {i}: the answers differ"
                );
                if real.code() == "locked" {
                    assert_eq!(
                        locked_until(&real),
                        locked_until(&ghost),
                        "round {round}, failure {i}: lock ends"
                    );
                }
                t.advance(SECOND);
            }
            // Past the first lock (15m), the second one is twice as long, for both.
            t.advance(31 * MINUTE);
        }
        // "NOBODY@example.com" is the same address as "nobody@example.com".
        assert_eq!(fail(&t, "NOBODY@example.com").await.code(), "invalid_credentials");
    }
);

both!(
    the_lockout_card_says_why_and_until_when_as_the_timeline_does,
    |t| async move {
        let ana = t.user("ana@example.com", Role::User).await;
        let from = ClientInfo {
            ip: Some("198.51.100.7".into()),
            ..Default::default()
        };
        let start = t.now();
        for _ in 0..5 {
            t.advance(SECOND);
            let _ = t.try_sign_in("ana@example.com", WRONG_PASSWORD, &from).await;
        }
        let admin = t.admin_actor().await;
        let detail = admin::user_detail(&t.db, &admin, "ana@example.com", t.now())
            .await
            .unwrap();
        let lock = detail.lock.expect("a locked account has its lockout card");
        assert_eq!(lock.since, Some(t.now()));
        assert_eq!(lock.until, Some(t.now() + 15 * MINUTE));
        assert!(!lock.permanent);
        assert_eq!(
            lock.failures,
            Some(5),
            "the failures that caused it, not the count since (0)"
        );
        assert_eq!(lock.ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(lock.lock_count, 1);
        let tl = warden_core::ops::timeline::user_timeline(&t.db, &admin, ana, start, t.now(), t.now())
            .await
            .unwrap();
        let mark = tl
            .marks
            .iter()
            .find(|m| m.kind == warden_core::ops::timeline::MarkKind::Locked)
            .expect("the lock on the timeline");
        assert_eq!(mark.until, lock.until, "one end, on the card and the timeline");
        // Unlocked, the card is gone.
        admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", "verified by phone")
            .await
            .unwrap();
        let detail = admin::user_detail(&t.db, &admin, "ana@example.com", t.now())
            .await
            .unwrap();
        assert!(detail.lock.is_none());
    }
);
