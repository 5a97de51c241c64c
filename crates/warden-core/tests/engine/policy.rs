//! Policy versions: validation, history, the audited diff and re-authentication; the preview with its
//! simulation on a constructed data set, shortening live sessions, and rollback.

use uuid::Uuid;
use warden_core::model::authz::{Actor, ActorKind, Admin};
use warden_core::ops::policy::{self as policy_store, SaveOptions};
use warden_core::{with_db, Role};

use crate::support::*;

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

both!(
    invalid_policy_is_refused_naming_the_field_and_nothing_is_saved,
    |t| async move {
        let admin = t.admin_actor().await;
        let history = policy_store::history(&t.db, &admin).await.unwrap();
        let audit_before = t.count("SELECT count(*) FROM audit_events").await;
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("session.ttl", "0s")], "session.ttl"),
            (&[("lockout.threshold", "abc")], "lockout.threshold"),
            (&[("lockout.threshold", "0")], "lockout.threshold"),
            (&[("session.idle_timeout", "30d")], "session.idle_timeout"),
            (&[("no.such_key", "1")], "no.such_key"),
            (&[("password.min_length", "4")], "password.min_length"),
        ];
        for (assignments, field) in cases {
            let e = assert_code(
                policy_store::set(&t.db, &admin, t.now(), &kv(assignments), "try").await,
                "policy_invalid",
                "an invalid policy",
            );
            assert_eq!(
                e.field(),
                Some(*field),
                "the error names the offending key for {assignments:?}: {e}"
            );
        }
        let after = policy_store::history(&t.db, &admin).await.unwrap();
        assert_eq!(after.len(), history.len(), "no version was saved");
        assert_eq!(after[0].policy, history[0].policy);
        assert_eq!(
            t.count("SELECT count(*) FROM audit_events").await,
            audit_before,
            "nothing was audited"
        );
        assert_code(
            policy_store::set(&t.db, &admin, t.now(), &kv(&[("lockout.threshold", "3")]), "   ").await,
            "invalid_input",
            "a note is required",
        );
    }
);

both!(valid_change_creates_the_next_version_with_its_diff, |t| async move {
    let admin = t.admin_actor().await;
    let (version, before) = policy_store::current(&t.db).await.unwrap();
    let update = policy_store::set(
        &t.db,
        &admin,
        t.now(),
        &kv(&[("lockout.threshold", "3"), ("session.ttl", "5d")]),
        "incident 7: tighten lockout",
    )
    .await
    .unwrap();
    assert_eq!(update.version, version + 1, "a change creates version N+1");
    let keys: Vec<(&str, &str, &str)> = update
        .changes
        .iter()
        .map(|c| (c.key.as_str(), c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![("session.ttl", "7d", "5d"), ("lockout.threshold", "5", "3")],
        "the diff lists what changed"
    );
    let (now_version, now_policy) = policy_store::current(&t.db).await.unwrap();
    assert_eq!(now_version, version + 1);
    assert_eq!(now_policy.lockout.threshold, 3);
    assert_eq!(now_policy.password, before.password, "untouched keys keep their values");
    let history = policy_store::history(&t.db, &admin).await.unwrap();
    assert_eq!(
        history[0].version,
        version + 1,
        "history lists the newest version first"
    );
    assert_eq!(history[0].created_by, "root@example.com", "with its author");
    assert_eq!(history[0].note, "incident 7: tighten lockout", "and its note");
    assert_eq!(history[0].created_at, t.now());
    assert_eq!(history.len() as i64, version + 1);
    let ev = t.audit_action("policy.updated").await;
    let last = ev.last().unwrap();
    assert_eq!(last.actor_id, admin.actor().id);
    assert_eq!(last.reason.as_deref(), Some("incident 7: tighten lockout"));
    let meta: serde_json::Value = serde_json::from_str(&last.metadata).unwrap();
    assert_eq!(meta["version"], version + 1);
    assert_eq!(
        meta["changes"],
        serde_json::json!([
            { "key": "session.ttl", "from": "7d", "to": "5d" },
            { "key": "lockout.threshold", "from": "5", "to": "3" },
        ]),
        "the audit event carries the diff"
    );
});

both!(stale_admin_authentication_needs_reauth, |t| async move {
    let admin = t.admin_actor().await;
    let (version, _) = policy_store::current(&t.db).await.unwrap();
    // Default privileged.reauth_after is 15m.
    let stale = Admin::for_tests(Actor {
        authenticated_at: t.now() - 15 * MINUTE - 1,
        ..admin.actor().clone()
    });
    assert_code(
        policy_store::set(&t.db, &stale, t.now(), &kv(&[("lockout.threshold", "3")]), "late").await,
        "reauth_required",
        "a policy change needs a sign-in no older than reauth_after",
    );
    assert_eq!(policy_store::current(&t.db).await.unwrap().0, version, "nothing saved");
    let fresh_enough = Admin::for_tests(Actor {
        authenticated_at: t.now() - 15 * MINUTE,
        ..admin.actor().clone()
    });
    policy_store::set(
        &t.db,
        &fresh_enough,
        t.now(),
        &kv(&[("lockout.threshold", "3")]),
        "in time",
    )
    .await
    .expect("exactly reauth_after old is still fresh");
    let cli = Admin::for_tests(Actor {
        authenticated_at: 0,
        ..t.cli().actor().clone()
    });
    assert_eq!(cli.actor().kind, ActorKind::Cli);
    policy_store::set(&t.db, &cli, t.now(), &kv(&[("lockout.threshold", "4")]), "cli")
        .await
        .expect("the CLI authenticates per call");
    let uid = t.user("ana@example.com", Role::User).await;
    assert_code(
        policy_store::history(&t.db, &t.staff_for(uid, "ana@example.com", Role::User)).await,
        "forbidden",
        "a user may not read the policy history",
    );
});

// ---- preview, simulation, shortening and rollback ----

/// Sets a session's four times (and revocation) directly, to build a data set with exact ages.
async fn set_times(t: &T, id: Uuid, created: i64, last_seen: i64, refreshed: i64, expires: i64, revoked: Option<i64>) {
    with_db!(&t.db, |p| sqlx::query(
        "UPDATE sessions SET created_at = $2, last_seen_at = $3, refreshed_at = $4, expires_at = $5, revoked_at = $6 \
         WHERE id = $1"
    )
    .bind(id)
    .bind(created)
    .bind(last_seen)
    .bind(refreshed)
    .bind(expires)
    .bind(revoked)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .expect("set session times");
}

async fn set_lock(t: &T, id: Uuid, lock_count: i64, last_locked: Option<i64>, until: Option<i64>, permanent: bool) {
    with_db!(&t.db, |p| sqlx::query(
        "UPDATE users SET lock_count = $2, last_locked_at = $3, locked_until = $4, locked_permanently = $5 WHERE id = $1"
    )
    .bind(id)
    .bind(lock_count)
    .bind(last_locked)
    .bind(until)
    .bind(permanent)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .expect("set lockout state");
}

async fn expiries(t: &T) -> Vec<(Uuid, i64)> {
    with_db!(&t.db, |p| sqlx::query_as::<_, (Uuid, i64)>(
        "SELECT id, expires_at FROM sessions ORDER BY id"
    )
    .fetch_all(p)
    .await)
    .expect("read expiries")
}

/// The proposal the simulation test checks: tighter ordinary and privileged caps, a shorter first lock and
/// permanent locks from the third in a row.
const TIGHTER: &[(&str, &str)] = &[
    ("session.ttl", "5d"),
    ("session.idle_timeout", "1d"),
    ("session.max_lifetime", "10d"),
    ("privileged.ttl", "2h"),
    ("privileged.idle_timeout", "10m"),
    ("lockout.duration", "5m"),
    ("lockout.permanent_after", "3"),
];

/// Named sessions with the ages the simulation figures are worked out from (defaults in force: ordinary
/// ttl 7d, idle 3d, max 30d; privileged ttl 8h, idle 30m, max 12h), plus six accounts in known lock states.
struct DataSet {
    ids: std::collections::HashMap<&'static str, Uuid>,
}

/// (name, created, last_seen, refreshed, expires, revoked), relative to now.
type OrdinarySession = (&'static str, i64, i64, i64, i64, Option<i64>);
/// (email, lock_count, last_locked, locked_until, permanent), relative to now.
type LockState = (&'static str, i64, Option<i64>, Option<i64>, bool);

async fn build_data_set(t: &T) -> DataSet {
    let n = t.now();
    t.user("ana@example.com", Role::User).await;
    t.user("sam@example.com", Role::Support).await;
    let mut ids = std::collections::HashMap::new();
    let ordinary: &[OrdinarySession] = &[
        // live now and under the new caps; its expiry (7d after refresh) is past the new ttl of 5d
        ("A", -2 * DAY, -HOUR, -HOUR, -HOUR + 7 * DAY, None),
        // idle 2d: live under idle 3d, ended by idle 1d
        ("B", -5 * DAY, -2 * DAY, -2 * DAY, 5 * DAY, None),
        // 15d old: live under max 30d, ended by max 10d
        ("C", -15 * DAY, -HOUR, -HOUR, -HOUR + 7 * DAY, None),
        // live under both, but not refreshed for 6d: shortening to refreshed + 5d ends it
        ("D", -6 * DAY, -2 * HOUR, -6 * DAY, DAY, None),
        // revoked: not live, never counted nor touched
        ("E", -HOUR, -HOUR, -HOUR, -HOUR + 7 * DAY, Some(-30 * MINUTE)),
        // expired a minute ago: not live, never touched
        ("F", -10 * DAY, -2 * DAY, -8 * DAY, -MINUTE, None),
        // live, and its expiry is already within the new caps: shortening leaves it alone (never lengthens)
        ("G", -DAY, -MINUTE, -MINUTE, -MINUTE + 4 * DAY, None),
    ];
    for (name, c, l, r, e, rev) in ordinary {
        let (s, _) = t.sign_in("ana@example.com").await;
        set_times(t, s.id, n + c, n + l, n + r, n + e, rev.map(|v| n + v)).await;
        ids.insert(*name, s.id);
    }
    let privileged: &[(&str, i64, i64, i64, i64)] = &[
        // live under both; 8h expiry is past the new privileged ttl of 2h
        ("P1", -HOUR, -5 * MINUTE, -5 * MINUTE, -5 * MINUTE + 8 * HOUR),
        // idle 20m: ended by the new privileged idle timeout of 10m
        ("P2", -2 * HOUR, -20 * MINUTE, -20 * MINUTE, -20 * MINUTE + 8 * HOUR),
        // live under both, last refreshed 3h ago: shortening to refreshed + 2h ends it
        ("P3", -3 * HOUR, -MINUTE, -3 * HOUR, 5 * HOUR),
    ];
    for (name, c, l, r, e) in privileged {
        let (s, _) = t.sign_in("sam@example.com").await;
        assert!(s.privileged, "a support user's session is privileged");
        set_times(t, s.id, n + c, n + l, n + r, n + e, None).await;
        ids.insert(*name, s.id);
    }
    // Lockout (old: first lock 15m, backoff 2; new: first lock 5m, permanent from the 3rd lock).
    let locks: &[LockState] = &[
        // locked for 15m, 10m ago: open under a 5m first lock
        ("l1@example.com", 1, Some(-10 * MINUTE), Some(5 * MINUTE), false),
        // 2nd lock (30m), 8m ago: still locked under 5m·2 = 10m
        ("l2@example.com", 2, Some(-8 * MINUTE), Some(22 * MINUTE), false),
        // locked until an admin unlocks: locked under any rules
        ("l3@example.com", 2, Some(-2 * DAY), None, true),
        // 3rd lock in a row, long over: permanent under permanent_after = 3
        ("l4@example.com", 3, Some(-5 * DAY), Some(-5 * DAY + HOUR), false),
        // unlocked by an admin: open under any rules
        ("l5@example.com", 0, Some(-10 * MINUTE), None, false),
        // a 15m lock that ended 15m ago: open under both
        ("l6@example.com", 1, Some(-30 * MINUTE), Some(-15 * MINUTE), false),
    ];
    for (email, count, last, until, permanent) in locks {
        let id = t.user(email, Role::User).await;
        set_lock(t, id, *count, last.map(|v| n + v), until.map(|v| n + v), *permanent).await;
    }
    DataSet { ids }
}

both!(preview_reports_every_broken_rule_and_saves_nothing, |t| async move {
    let admin = t.admin_actor().await;
    let (version, _) = policy_store::current(&t.db).await.unwrap();
    let audit_before = t.count("SELECT count(*) FROM audit_events").await;
    let p = policy_store::preview(
        &t.db,
        &admin,
        t.now(),
        &kv(&[
            ("session.ttl", "soon"),
            ("session.idle_timeout", "8d"),
            ("lockout.threshold", "0"),
            ("password.min_length", "12"),
        ]),
    )
    .await
    .unwrap();
    let got: Vec<(&str, &str)> = p
        .violations
        .iter()
        .map(|v| (v.field.as_str(), v.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("session.ttl", "must be a duration such as 30m, 12h or 7d"),
            ("session.idle_timeout", "must be at most session.ttl (7d)"),
            ("lockout.threshold", "must be between 1 and 100"),
        ],
        "every error, each with its field and rule"
    );
    assert!(p.simulation.is_none(), "no simulation of an invalid policy");
    assert_eq!(p.version, version);
    assert_eq!(
        policy_store::current(&t.db).await.unwrap().0,
        version,
        "a preview saves nothing"
    );
    assert_eq!(
        t.count("SELECT count(*) FROM audit_events").await,
        audit_before,
        "nor audits"
    );

    let ok = policy_store::preview(&t.db, &admin, t.now(), &kv(&[("lockout.threshold", "3")]))
        .await
        .unwrap();
    assert!(ok.violations.is_empty());
    assert_eq!(ok.changes.len(), 1);
    assert_eq!(
        (
            ok.changes[0].key.as_str(),
            ok.changes[0].from.as_str(),
            ok.changes[0].to.as_str()
        ),
        ("lockout.threshold", "5", "3")
    );
    assert!(ok.simulation.is_some());
});

both!(simulation_counts_sessions_and_locks_exactly, |t| async move {
    let admin = t.admin_actor().await;
    build_data_set(&t).await;
    let p = policy_store::preview(&t.db, &admin, t.now(), &kv(TIGHTER))
        .await
        .unwrap();
    assert!(p.violations.is_empty(), "{:?}", p.violations);
    let sim = p.simulation.expect("a valid change is simulated");
    let s = sim.sessions;
    assert_eq!(s.live, 8, "A B C D G P1 P2 P3 are live; E is revoked and F expired");
    assert_eq!(
        s.ended, 3,
        "B (idle), C (lifetime) and P2 (privileged idle) end under the new caps"
    );
    assert_eq!(s.ended_privileged, 1, "P2");
    assert_eq!(
        s.shortened, 7,
        "every live session but G has an expiry past the new caps"
    );
    assert_eq!(
        s.ended_if_shortened, 5,
        "with shortening D and P3 end too (refreshed longer ago than the new ttl)"
    );
    let l = sim.lockout;
    assert_eq!(l.locked, 3, "l1 l2 l3 are locked now");
    assert_eq!(l.locked_under_new, 3, "l2 l3 l4 under the new rules");
    assert_eq!(l.newly_unlocked, 1, "l1: a 5m first lock would have ended");
    assert_eq!(l.newly_locked, 1, "l4: its third lock would be permanent");

    // The policy in force compared with itself ends and shortens nothing, and recomputes every lock as
    // stored (the data set's locks were set under the defaults).
    let same = policy_store::preview(&t.db, &admin, t.now(), &kv(&[("session.ttl", "7d")]))
        .await
        .unwrap()
        .simulation
        .unwrap();
    assert_eq!(same.sessions.ended, 0);
    assert_eq!(same.sessions.shortened, 0, "nothing lasts past the caps in force");
    assert_eq!(same.lockout.newly_unlocked + same.lockout.newly_locked, 0);
});

both!(shortening_moves_expiries_earlier_only_and_is_audited, |t| async move {
    let admin = t.admin_actor().await;
    let data = build_data_set(&t).await;
    let n = t.now();
    let before = expiries(&t).await;
    let preview = policy_store::preview(&t.db, &admin, n, &kv(TIGHTER)).await.unwrap();
    let update = policy_store::set_with(
        &t.db,
        &admin,
        n,
        &kv(TIGHTER),
        "incident 9: shorter sessions now",
        SaveOptions {
            shorten_sessions: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        update.sessions_shortened,
        preview.simulation.unwrap().sessions.shortened,
        "the save shortens exactly what the preview counted"
    );
    assert_eq!(update.sessions_shortened, 7);
    let after = expiries(&t).await;
    assert_eq!(before.len(), after.len());
    for ((id, was), (_, now_exp)) in before.iter().zip(&after) {
        assert!(now_exp <= was, "session {id} was lengthened: {was} -> {now_exp}");
    }
    let exp = |name: &str| {
        let id = data.ids[name];
        after.iter().find(|(i, _)| *i == id).unwrap().1
    };
    let was = |name: &str| {
        let id = data.ids[name];
        before.iter().find(|(i, _)| *i == id).unwrap().1
    };
    assert_eq!(exp("A"), n - HOUR + 5 * DAY, "refreshed + new ttl");
    assert_eq!(exp("C"), n - 15 * DAY + 10 * DAY, "created + new max lifetime");
    assert_eq!(exp("D"), n - DAY, "refreshed + new ttl, already past");
    assert_eq!(exp("P1"), n - 5 * MINUTE + 2 * HOUR, "privileged ttl");
    assert_eq!(exp("P3"), n - HOUR);
    for untouched in ["E", "F", "G"] {
        assert_eq!(exp(untouched), was(untouched), "{untouched} keeps its expiry");
    }
    let ev = t.audit_action("policy.updated").await;
    let meta: serde_json::Value = serde_json::from_str(&ev.last().unwrap().metadata).unwrap();
    assert_eq!(meta["shorten_sessions"], true);
    assert_eq!(meta["sessions_shortened"], 7, "the count is in the audit metadata");
    assert_eq!(meta["version"], update.version);

    // A looser policy with the option set lengthens nothing.
    let before = expiries(&t).await;
    let looser = policy_store::set_with(
        &t.db,
        &admin,
        n,
        &kv(&[("session.ttl", "9d"), ("session.max_lifetime", "20d")]),
        "loosen again",
        SaveOptions {
            shorten_sessions: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(looser.sessions_shortened, 0);
    assert_eq!(expiries(&t).await, before, "a looser cap never lengthens a session");

    // Without the option, nothing is shortened and the metadata says so.
    let plain = policy_store::set(&t.db, &admin, n, &kv(&[("session.ttl", "2d")]), "no shortening")
        .await
        .unwrap();
    assert_eq!(plain.sessions_shortened, 0);
    assert_eq!(expiries(&t).await, before);
    let ev = t.audit_action("policy.updated").await;
    let meta: serde_json::Value = serde_json::from_str(&ev.last().unwrap().metadata).unwrap();
    assert_eq!(meta["shorten_sessions"], false);
    assert_eq!(meta["sessions_shortened"], 0);
});

both!(rollback_saves_the_old_policy_as_a_new_audited_version, |t| async move {
    let admin = t.admin_actor().await;
    let first = policy_store::set(&t.db, &admin, t.now(), &kv(&[("lockout.threshold", "3")]), "three")
        .await
        .unwrap();
    let second = policy_store::set(
        &t.db,
        &admin,
        t.now(),
        &kv(&[("lockout.threshold", "4"), ("session.ttl", "5d")]),
        "four",
    )
    .await
    .unwrap();
    assert_code(
        policy_store::rollback(&t.db, &admin, t.now(), first.version, "  ", SaveOptions::default()).await,
        "invalid_input",
        "a note is required",
    );
    let e = assert_code(
        policy_store::rollback(&t.db, &admin, t.now(), 999, "typo", SaveOptions::default()).await,
        "invalid_input",
        "an unknown version",
    );
    assert_eq!(e.field(), Some("version"));
    assert_eq!(
        policy_store::current(&t.db).await.unwrap().0,
        second.version,
        "nothing saved"
    );

    let back = policy_store::rollback(
        &t.db,
        &admin,
        t.now(),
        first.version,
        "four was too lenient",
        SaveOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(back.version, second.version + 1, "a rollback is a new version");
    let history = policy_store::history(&t.db, &admin).await.unwrap();
    let policy_of = |v: i64| history.iter().find(|h| h.version == v).unwrap().policy.clone();
    assert_eq!(
        policy_of(back.version),
        policy_of(first.version),
        "equal to the version rolled back to"
    );
    assert_eq!(history[0].note, "four was too lenient");
    let changes: Vec<(&str, &str, &str)> = back
        .changes
        .iter()
        .map(|c| (c.key.as_str(), c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(
        changes,
        vec![("session.ttl", "5d", "7d"), ("lockout.threshold", "4", "3")]
    );
    let ev = t.audit_action("policy.rolled_back").await;
    assert_eq!(ev.len(), 1, "audited once");
    assert_eq!(ev[0].reason.as_deref(), Some("four was too lenient"));
    assert_eq!(ev[0].actor_id, admin.actor().id);
    let meta: serde_json::Value = serde_json::from_str(&ev[0].metadata).unwrap();
    assert_eq!(meta["rolled_back_to"], first.version);
    assert_eq!(meta["version"], back.version);
    assert_eq!(meta["changes"][1]["key"], "lockout.threshold");
    let views = policy_store::history_with_changes(&t.db, &admin).await.unwrap();
    assert_eq!(views[0].version, back.version);
    assert_eq!(views[0].changes, back.changes, "the history shows each version's diff");
});

both!(preview_save_and_rollback_need_a_fresh_security_admin, |t| async move {
    build_data_set(&t).await;
    let admin = t.admin_actor().await;
    let support = t.support_actor().await;
    let first = policy_store::set(&t.db, &admin, t.now(), &kv(&[("lockout.threshold", "3")]), "v")
        .await
        .unwrap();
    assert_code(
        policy_store::preview(&t.db, &Admin::for_tests(support.actor().clone()), t.now(), &kv(TIGHTER)).await,
        "forbidden",
        "support may not preview policy changes",
    );
    assert_code(
        policy_store::form(&t.db, &Admin::for_tests(support.actor().clone())).await,
        "forbidden",
        "nor open the editor",
    );
    assert_code(
        policy_store::set_with(
            &t.db,
            &Admin::for_tests(support.actor().clone()),
            t.now(),
            &kv(TIGHTER),
            "x",
            SaveOptions {
                shorten_sessions: true,
                ..Default::default()
            },
        )
        .await,
        "forbidden",
        "nor save",
    );
    assert_code(
        policy_store::rollback(
            &t.db,
            &Admin::for_tests(support.actor().clone()),
            t.now(),
            first.version,
            "x",
            SaveOptions::default(),
        )
        .await,
        "forbidden",
        "nor roll back",
    );
    let stale = Admin::for_tests(Actor {
        authenticated_at: t.now() - 15 * MINUTE - 1,
        ..admin.actor().clone()
    });
    policy_store::preview(&t.db, &stale, t.now(), &kv(TIGHTER))
        .await
        .expect("a preview changes nothing, so a stale sign-in may preview");
    let before = expiries(&t).await;
    assert_code(
        policy_store::set_with(
            &t.db,
            &stale,
            t.now(),
            &kv(TIGHTER),
            "x",
            SaveOptions {
                shorten_sessions: true,
                ..Default::default()
            },
        )
        .await,
        "reauth_required",
        "saving needs a fresh sign-in",
    );
    assert_code(
        policy_store::rollback(&t.db, &stale, t.now(), first.version, "x", SaveOptions::default()).await,
        "reauth_required",
        "rolling back too",
    );
    assert_eq!(expiries(&t).await, before, "no session was shortened by a refused save");
    assert_eq!(
        policy_store::current(&t.db).await.unwrap().0,
        first.version,
        "no version saved"
    );
    let form = policy_store::form(&t.db, &admin).await.unwrap();
    assert_eq!(form.version, first.version);
    assert_eq!(form.fields.len(), warden_core::model::policy::KEYS.len());
    let threshold = form.fields.iter().find(|f| f.info.key == "lockout.threshold").unwrap();
    assert_eq!(threshold.value, "3");
});
