//! The engine's rules under many concurrent callers. Each test fires its callers at once, on real
//! connections, and then checks the rule against what the database holds: SQLite serialises writers, so
//! these matter most on PostgreSQL, but every rule must hold on both.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use warden_core::model::session_filter::SessionFilter;
use warden_core::ops::admin;
use warden_core::ops::audit;
use warden_core::ops::auth::{self, SignIn};
use warden_core::ops::bulk::{self, BulkRequest, BulkTarget};
use warden_core::ops::policy as policy_store;
use warden_core::ops::sessions::{self, ClientInfo};
use warden_core::{Db, Error, Millis, Role, Secret};

use crate::support::*;

/// Runs `n` calls of `f` at once (each on its own task) and returns their results in call order.
async fn at_once<R, Fut>(n: usize, f: impl Fn(usize) -> Fut) -> Vec<R>
where
    R: Send + 'static,
    Fut: std::future::Future<Output = R> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let fut = f(i);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("a concurrent caller panicked"));
    }
    out
}

async fn sign_in(db: Db, now: Millis, email: String, password: &'static str) -> Result<SignIn, Error> {
    auth::sign_in(&db, now, &email, &Secret::new(password), &ClientInfo::default()).await
}

/// The error codes of `results`, sorted, with `ok` for a success.
fn codes<T>(results: &[Result<T, Error>]) -> Vec<String> {
    let mut c: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code().to_owned(),
        })
        .collect();
    c.sort();
    c
}

/// A user's sessions not revoked (`live`) or all of them.
async fn sessions_of(t: &T, user: uuid::Uuid, live: bool) -> i64 {
    let sql = if live {
        "SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL"
    } else {
        "SELECT count(*) FROM sessions WHERE user_id = $1"
    };
    warden_core::with_db!(&t.db, |p| sqlx::query_scalar::<_, i64>(sql)
        .bind(user)
        .fetch_one(p)
        .await)
    .expect("count sessions")
}

fn times(code: &str, n: usize) -> Vec<String> {
    vec![code.to_owned(); n]
}

both!(
    concurrent_wrong_passwords_are_all_counted_and_lock_at_the_threshold,
    |t| async move {
        // Defaults: threshold 5 in a 15-minute window, a 15-minute first lock.
        let uid = t.user("ana@example.com", Role::User).await;
        let now = t.now();
        let results = at_once(12, |_| {
            sign_in(t.db.clone(), now, "ana@example.com".into(), WRONG_PASSWORD)
        })
        .await;
        let mut expected = times("invalid_credentials", 4);
        expected.extend(times("locked", 8));
        expected.sort();
        assert_eq!(
            codes(&results),
            expected,
            "four failures answer as wrong, the fifth locks, and every later one finds the account locked"
        );
        let user = t.user_row(uid).await;
        assert_eq!(
            warden_core::rules::lockout::current_lock(&warden_core::rules::lockout::state_of(&user), now),
            Some(warden_core::rules::lockout::Lock::Until(now + 15 * MINUTE)),
            "locked for lockout.duration"
        );
        assert_eq!(user.lock_count, 1, "one lock, not one per racing failure");
        assert_eq!(t.audit_action("user.locked").await.len(), 1, "the lock is audited once");
        let attempts = t.login_attempts().await;
        let counted = attempts.iter().filter(|a| a.1 == "bad_password").count();
        assert_eq!(
            counted, 5,
            "exactly the threshold of failures was counted: {attempts:?}"
        );
        assert_eq!(attempts.iter().filter(|a| a.1 == "locked").count(), 7);

        // Exactly the threshold at once, on a fresh account: it ends locked every time.
        for trial in 0..3 {
            let email = format!("exact{trial}@example.com");
            let id = t.user(&email, Role::User).await;
            let results = at_once(5, |_| sign_in(t.db.clone(), now, email.clone(), WRONG_PASSWORD)).await;
            assert_eq!(
                codes(&results).iter().filter(|c| *c == "locked").count(),
                1,
                "trial {trial}: the fifth of five concurrent failures locks"
            );
            let user = t.user_row(id).await;
            assert!(
                warden_core::rules::lockout::current_lock(&warden_core::rules::lockout::state_of(&user), now).is_some(),
                "trial {trial}: five concurrent failures lock the account (failed_count {})",
                user.failed_count
            );
        }
    }
);

both!(
    a_correct_password_racing_the_locking_failure_never_clears_the_lock,
    |t| async move {
        let now = t.now();
        for trial in 0..12 {
            let email = format!("race{trial}@example.com");
            let uid = t.user(&email, Role::User).await;
            for _ in 0..4 {
                t.try_sign_in(&email, WRONG_PASSWORD, &ClientInfo::default())
                    .await
                    .expect_err("a wrong password");
            }
            let results = at_once(2, |i| {
                sign_in(
                    t.db.clone(),
                    now,
                    email.clone(),
                    if i == 0 { WRONG_PASSWORD } else { PASSWORD },
                )
            })
            .await;
            let failure = results[0].as_ref().expect_err("a wrong password never signs in").code();
            let success = match &results[1] {
                Ok(_) => "ok",
                Err(e) => e.code(),
            };
            let locked = warden_core::rules::lockout::current_lock(
                &warden_core::rules::lockout::state_of(&t.user_row(uid).await),
                now,
            )
            .is_some();
            if failure == "locked" {
                assert!(
                    locked,
                    "trial {trial}: the fifth failure locked the account, and a sign-in racing it must not unlock it"
                );
                assert_eq!(
                    success, "locked",
                    "trial {trial}: the right password after the lock finds the account locked"
                );
            } else {
                assert_eq!(
                    (failure, success, locked),
                    ("invalid_credentials", "ok", false),
                    "trial {trial}: the sign-in came first and started the count over"
                );
            }
            let unlocks = t.audit_action("user.unlocked").await;
            assert!(unlocks.is_empty(), "nobody unlocked anything");
        }
    }
);

both!(
    an_unknown_address_answers_a_burst_as_a_real_account_does,
    |t| async move {
        t.user("real@example.com", Role::User).await;
        let now = t.now();
        let real = at_once(10, |_| {
            sign_in(t.db.clone(), now, "real@example.com".into(), WRONG_PASSWORD)
        })
        .await;
        let ghost = at_once(10, |_| {
            sign_in(t.db.clone(), now, "ghost@example.com".into(), WRONG_PASSWORD)
        })
        .await;
        assert_eq!(
            codes(&ghost),
            codes(&real),
            "a burst at an address without an account answers exactly as one at a real account"
        );
        let mut expected = times("invalid_credentials", 4);
        expected.extend(times("locked", 6));
        expected.sort();
        assert_eq!(codes(&real), expected);
        for (ra, ga) in real.iter().zip(&ghost) {
            if let (Err(Error::Locked { until: a }), Err(Error::Locked { until: b })) = (ra, ga) {
                assert_eq!(a, b, "both locks end at the same time");
            }
        }
    }
);

both!(concurrent_sign_ins_never_exceed_max_concurrent, |t| async move {
    t.set_policy(&[("session.max_concurrent", "3"), ("session.on_limit", "reject")])
        .await;
    let uid = t.user("ana@example.com", Role::User).await;
    let now = t.now();
    let results = at_once(16, |_| sign_in(t.db.clone(), now, "ana@example.com".into(), PASSWORD)).await;
    let mut expected = times("ok", 3);
    expected.extend(times("session_limit_reached", 13));
    expected.sort();
    assert_eq!(codes(&results), expected, "with reject, exactly the limit signs in");
    assert_eq!(sessions_of(&t, uid, true).await, 3);

    t.set_policy(&[("session.on_limit", "evict_oldest")]).await;
    let results = at_once(16, |_| sign_in(t.db.clone(), now, "ana@example.com".into(), PASSWORD)).await;
    assert_eq!(
        codes(&results),
        times("ok", 16),
        "with evict_oldest, every sign-in succeeds"
    );
    assert_eq!(
        sessions_of(&t, uid, true).await,
        3,
        "and the oldest are ended so that at most the limit live"
    );
    assert_eq!(
        t.audit_action("session.evicted").await.len(),
        16,
        "each eviction is audited once"
    );
});

both!(a_totp_challenge_yields_one_session_at_most, |t| async move {
    let uid = t.user("ana@example.com", Role::User).await;
    let (_, backup) = crate::totp::enrol(&t, uid).await;
    let before = sessions_of(&t, uid, false).await;
    let challenge = match t.try_sign_in("ana@example.com", PASSWORD, &ClientInfo::default()).await {
        Ok(SignIn::TotpRequired { challenge }) => challenge,
        other => panic!("expected a challenge, got {other:?}"),
    };
    let now = t.now();
    let results = at_once(5, |i| {
        let (db, key, challenge, code) = (t.db.clone(), t.key.clone(), challenge.clone(), backup[i].clone());
        async move { auth::sign_in_totp(&db, now, &key, &challenge, &code, &ClientInfo::default()).await }
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "one challenge, one session, whatever codes race: {:?}",
        codes(&results)
    );
    assert_eq!(
        sessions_of(&t, uid, false).await,
        before + 1,
        "beside the one that enrolled"
    );
});

both!(concurrent_policy_changes_are_never_lost, |t| async move {
    let keys = [
        ("lockout.threshold", "7"),
        ("lockout.window", "20m"),
        ("lockout.duration", "20m"),
        ("session.max_concurrent", "9"),
        ("session.ttl", "6d"),
        ("privileged.max_concurrent", "2"),
        ("lockout.permanent_after", "9"),
        ("lockout.reset_after", "2d"),
    ];
    let now = t.now();
    let results = at_once(keys.len(), |i| {
        let db = t.db.clone();
        let (k, v) = keys[i];
        async move {
            let actor = warden_core::ops::operator::cli(now).expect("the CLI operator");
            policy_store::set(&db, &actor, now, &[(k.to_owned(), v.to_owned())], "concurrent edit").await
        }
    })
    .await;
    for r in &results {
        match r {
            Ok(_) => {}
            Err(e) => assert_eq!(e.code(), "policy_conflict", "a refused edit says why: {e}"),
        }
    }
    let applied: Vec<&str> = results
        .iter()
        .zip(keys)
        .filter(|(r, _)| r.is_ok())
        .map(|(_, (k, _))| k)
        .collect();
    assert!(!applied.is_empty());
    let (_, policy) = policy_store::current(&t.db).await.unwrap();
    let entries = policy.entries();
    for (k, v) in keys {
        let now_value = &entries.iter().find(|(key, _)| *key == k).expect("a policy key").1;
        if applied.contains(&k) {
            assert_eq!(now_value, v, "{k}: an edit that answered success is in force");
        }
    }
});

both!(audit_verify_passes_while_other_transactions_append, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    let stop = Arc::new(AtomicBool::new(false));
    let appended = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (db, stop, appended) = (t.db.clone(), stop.clone(), appended.clone());
        let now = t.now();
        writers.push(tokio::spawn(async move {
            let actor = warden_core::model::authz::Actor::system();
            while !stop.load(Ordering::SeqCst) {
                let rec = warden_core::model::audit::Record::new(warden_core::model::vocab::AuditAction::AuditExported)
                    .meta(serde_json::json!({ "writer": w }));
                warden_core::store::audit::append_alone(&db, now, &actor, rec)
                    .await
                    .expect("append");
                appended.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    while appended.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for run in 0..6 {
        let report = audit::verify(&t.db, &admin, t.now(), |_, _| {})
            .await
            .expect("verify runs");
        assert!(
            report.is_intact(),
            "run {run}: appends by others are not tampering: {:?}",
            report.detail
        );
        assert_eq!(
            report.events_verified, report.head_seq,
            "run {run}: every event up to the head it read was verified"
        );
        assert!(report.head_seq > 0);
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let failed = t
        .audit(audit::AuditFilter {
            action: Some("audit.verified".into()),
            status: Some(audit::Status::Failure),
            ..Default::default()
        })
        .await;
    assert!(failed.is_empty(), "no false alarm was recorded");
});

both!(revocation_is_linearizable, |t| async move {
    t.user("ana@example.com", Role::User).await;
    let (s, token) = t.sign_in("ana@example.com").await;
    let admin = t.admin_actor().await;
    let revoked = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let now = t.now();
    let validators: Vec<_> = (0..8)
        .map(|_| {
            let (db, token, revoked, stop) = (t.db.clone(), token.clone(), revoked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut late_successes = 0;
                let mut calls = 0;
                while !stop.load(Ordering::SeqCst) {
                    let after_revoke = revoked.load(Ordering::SeqCst);
                    let ok = sessions::validate(&db, now, &token, &ClientInfo::default())
                        .await
                        .is_ok();
                    calls += 1;
                    if after_revoke && ok {
                        late_successes += 1;
                    }
                }
                (calls, late_successes)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    admin::revoke_session(&t.db, &admin, now, s.id, "stolen laptop")
        .await
        .expect("revoke");
    revoked.store(true, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stop.store(true, Ordering::SeqCst);
    for v in validators {
        let (calls, late) = v.await.unwrap();
        assert!(calls > 1, "the validator ran");
        assert_eq!(late, 0, "no validation that began after the revoke returned succeeded");
    }
});

both!(support_never_acts_on_a_staff_account, |t| async move {
    let support = t.support_actor().await;
    let admin = t.admin_actor().await;
    let admin_id = admin.actor().id.unwrap();
    let other_support = t.user("agent2@example.com", Role::Support).await;
    let (admin_session, _) = t.sign_in("root@example.com").await;
    t.sign_in("agent2@example.com").await;
    for (target, who) in [
        ("root@example.com", "a security admin"),
        ("agent2@example.com", "another support agent"),
    ] {
        assert_code(
            admin::revoke_user_sessions(&t.db, &support, t.now(), target, "asked to").await,
            "forbidden",
            &format!("support ends {who}'s sessions"),
        );
        assert_code(
            admin::unlock_user(&t.db, &support, t.now(), target, "asked to").await,
            "forbidden",
            &format!("support unlocks {who}"),
        );
        assert_code(
            admin::reset_totp(&t.db, &support, t.now(), target, "asked to").await,
            "forbidden",
            &format!("support resets {who}'s two-factor"),
        );
    }
    assert_code(
        admin::revoke_session(&t.db, &support, t.now(), admin_session.id, "asked to").await,
        "forbidden",
        "support ends one of a security admin's sessions",
    );
    let cancel = AtomicBool::new(false);
    assert_code(
        bulk::run(
            &t.db,
            &support,
            &t.clock,
            &BulkRequest {
                target: BulkTarget::Sessions(vec![admin_session.id]),
                include_own: false,
                reason: "asked to".into(),
                batch_size: None,
            },
            &cancel,
            &mut |_| {},
        )
        .await,
        "forbidden",
        "support ends a security admin's sessions in bulk",
    );
    assert!(
        t.session(admin_session.id).await.revoked_at.is_none(),
        "the admin is still signed in"
    );
    // Their own sessions are theirs to end; their own second factor is not theirs to reset.
    t.sign_in("helpdesk@example.com").await;
    admin::revoke_user_sessions(
        &t.db,
        &support,
        t.now(),
        "helpdesk@example.com",
        "signing out everywhere",
    )
    .await
    .expect("support ends their own sessions");
    assert_code(
        admin::reset_totp(&t.db, &support, t.now(), "helpdesk@example.com", "lost my phone").await,
        "forbidden",
        "support resets their own two-factor",
    );
    // A security admin may act on staff.
    admin::revoke_user_sessions(&t.db, &admin, t.now(), "agent2@example.com", "offboarding")
        .await
        .expect("a security admin ends a support agent's sessions");
    admin::unlock_user(&t.db, &admin, t.now(), &other_support.to_string(), "locked out")
        .await
        .expect("a security admin unlocks a support agent");
    let _ = admin_id;
});

both!(bulk_counts_each_distinct_session_once, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    let (a, _) = t.sign_in("ana@example.com").await;
    let (b, _) = t.sign_in("ana@example.com").await;
    let req = BulkRequest {
        target: BulkTarget::Sessions(vec![a.id, a.id, b.id, a.id]),
        include_own: false,
        reason: "incident 7".into(),
        batch_size: None,
    };
    let plan = bulk::plan(&t.db, &admin, &req, t.now()).await.expect("plan");
    assert_eq!(
        (plan.sessions, plan.already_ended),
        (2, 0),
        "the dry run counts each session once"
    );
    let cancel = AtomicBool::new(false);
    let summary = bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |_| {})
        .await
        .expect("run");
    assert_eq!(summary.terminated, 2);
    assert_eq!(summary.already_ended, 0, "a repeated id is not an ended session");
});

both!(
    bulk_refuses_an_empty_filter_unless_the_emergency_is_asked_for,
    |t| async move {
        let admin = t.admin_actor().await;
        t.user("ana@example.com", Role::User).await;
        let (s, _) = t.sign_in("ana@example.com").await;
        let req = BulkRequest {
            target: BulkTarget::Filter(Box::default()),
            include_own: false,
            reason: "select all".into(),
            batch_size: None,
        };
        let e = assert_code(
            bulk::plan(&t.db, &admin, &req, t.now()).await,
            "invalid_input",
            "a dry run of an empty filter",
        );
        assert_eq!(e.field(), Some("filter"));
        let cancel = AtomicBool::new(false);
        let e = assert_code(
            bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |_| {}).await,
            "invalid_input",
            "an empty filter ends every session only through the emergency path",
        );
        assert!(
            e.to_string().contains("everyone"),
            "the error names the way to do it: {e}"
        );
        assert!(t.session(s.id).await.revoked_at.is_none(), "nothing was ended");
        let everyone = BulkRequest {
            target: BulkTarget::Everyone,
            ..req
        };
        let summary = bulk::run(&t.db, &admin, &t.clock, &everyone, &cancel, &mut |_| {})
            .await
            .expect("the emergency path");
        assert_eq!(summary.terminated, 1);
        assert_eq!(t.session(s.id).await.revoke_reason.as_deref(), Some("emergency"));
    }
);
both!(a_policy_save_from_a_stale_version_is_refused, |t| async move {
    let admin = t.admin_actor().await;
    let (version, policy) = policy_store::current(&t.db).await.unwrap();
    // Another admin saves first.
    t.set_policy(&[("lockout.threshold", "8")]).await;
    let mut mine = policy.clone();
    mine.lockout.window = warden_core::model::policy::Duration::parse("30m").unwrap();
    let e = policy_store::save_with(
        &t.db,
        &admin,
        t.now(),
        &mine,
        "edited from the version I loaded",
        policy_store::SaveOptions {
            base_version: Some(version),
            ..Default::default()
        },
    )
    .await
    .expect_err("saving over a newer version");
    assert_eq!(e.code(), "policy_conflict");
    assert!(
        e.to_string().contains(&format!("version {}", version + 1)),
        "the error names the version in force: {e}"
    );
    let (_, now_policy) = policy_store::current(&t.db).await.unwrap();
    assert_eq!(now_policy.lockout.threshold, 8, "the other admin's change stands");
    // Saved from the version in force, it goes through.
    policy_store::save_with(
        &t.db,
        &admin,
        t.now(),
        &now_policy,
        "reloaded and saved",
        policy_store::SaveOptions {
            base_version: Some(version + 1),
            ..Default::default()
        },
    )
    .await
    .expect("saved from the version in force");
});

both!(an_interrupted_bulk_run_is_reported_and_recorded, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    for _ in 0..6 {
        t.sign_in("ana@example.com").await;
    }
    let req = BulkRequest {
        target: BulkTarget::Filter(Box::new(SessionFilter {
            user: Some("ana@example.com".into()),
            ..Default::default()
        })),
        include_own: false,
        reason: "incident 9".into(),
        batch_size: Some(1),
    };
    // The run's process dies right after its second batch (a panic drops the run where it stands).
    let task = {
        let (db, actor, clock, req) = (t.db.clone(), admin.clone(), t.clock.clone(), req.clone());
        tokio::spawn(async move {
            let cancel = AtomicBool::new(false);
            let mut progress = |p: bulk::BulkProgress| {
                assert!(p.batches < 2, "the process dies here");
            };
            bulk::run(&db, &actor, &clock, &req, &cancel, &mut progress).await
        })
    };
    assert!(task.await.is_err(), "the run died");
    let runs = bulk::runs(&t.db, &admin, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!((run.matched, run.finished_at), (6, None), "it never finished");
    assert_eq!(
        (run.terminated, run.batches),
        (2, 2),
        "it ended two sessions in two batches"
    );
    assert!(!run.is_stale(t.now()), "just now it may still be running");
    t.advance(2 * MINUTE);
    assert!(bulk::runs(&t.db, &admin, 10).await.unwrap()[0].is_stale(t.now()));
    let plan = bulk::plan(&t.db, &admin, &req, t.now()).await.unwrap();
    assert_eq!(
        plan.interrupted.len(),
        1,
        "the next dry run reports the interrupted run"
    );
    assert_eq!(plan.interrupted[0].id, run.id);
    let left = 6 - run.terminated as u64;
    assert_eq!(plan.sessions, left, "and what it left is what the next run would end");
    let cancel = AtomicBool::new(false);
    let summary = bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(summary.terminated, left);
    assert_eq!(summary.interrupted.len(), 1, "the next run records it");
    let recorded = t.audit_action("session.bulk_interrupted").await;
    assert_eq!(recorded.len(), 1);
    let meta: serde_json::Value = serde_json::from_str(&recorded[0].metadata).unwrap();
    assert_eq!(meta["bulk_id"], run.id.to_string());
    assert_eq!(meta["terminated"], run.terminated);
    assert_eq!(meta["not_reached"], 6 - run.terminated);
    let batches = t.audit_action("session.bulk_batch").await;
    assert_eq!(
        batches
            .iter()
            .filter(|e| e.metadata.contains(&run.id.to_string()))
            .count() as i64,
        i64::from(run.batches),
        "its batches are linked to it by its id"
    );
    let runs = bulk::runs(&t.db, &admin, 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.finished_at.is_some()));
    assert!(runs.iter().any(|r| r.interrupted && r.id == run.id));
});

both!(
    a_session_found_over_by_many_requests_at_once_is_recorded_once,
    |t| async move {
        t.user("ana@example.com", Role::User).await;
        let (s, token) = t.sign_in("ana@example.com").await;
        let went_idle = t.now() + 3 * DAY + 1;
        t.advance(4 * DAY);
        let now = t.now();
        let results = at_once(16, |_| {
            let (db, token) = (t.db.clone(), token.clone());
            async move { sessions::validate(&db, now, &token, &ClientInfo::default()).await }
        })
        .await;
        assert_eq!(codes(&results), times("unauthenticated", 16));
        assert_eq!(t.audit_action("session.ended").await.len(), 1, "one audit record");
        assert_eq!(
            t.session_events(s.id)
                .await
                .iter()
                .filter(|(kind, _)| kind == "expired")
                .count(),
            1,
            "one timeline event"
        );
        assert_eq!(t.session(s.id).await.revoked_at, Some(went_idle));
    }
);
