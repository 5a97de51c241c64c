//! Policy versions: validation, history, the audited diff and re-authentication.

use warden_core::authz::{Actor, ActorKind};
use warden_core::policy_store;
use warden_core::Role;

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
    assert_eq!(last.actor_id, admin.id);
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
    let stale = Actor {
        authenticated_at: t.now() - 15 * MINUTE - 1,
        ..admin.clone()
    };
    assert_code(
        policy_store::set(&t.db, &stale, t.now(), &kv(&[("lockout.threshold", "3")]), "late").await,
        "reauth_required",
        "a policy change needs a sign-in no older than reauth_after",
    );
    assert_eq!(policy_store::current(&t.db).await.unwrap().0, version, "nothing saved");
    let fresh_enough = Actor {
        authenticated_at: t.now() - 15 * MINUTE,
        ..admin.clone()
    };
    policy_store::set(
        &t.db,
        &fresh_enough,
        t.now(),
        &kv(&[("lockout.threshold", "3")]),
        "in time",
    )
    .await
    .expect("exactly reauth_after old is still fresh");
    let cli = Actor {
        authenticated_at: 0,
        ..Actor::cli(t.now())
    };
    assert_eq!(cli.kind, ActorKind::Cli);
    policy_store::set(&t.db, &cli, t.now(), &kv(&[("lockout.threshold", "4")]), "cli")
        .await
        .expect("the CLI authenticates per call");
    let uid = t.user("ana@example.com", Role::User).await;
    assert_code(
        policy_store::history(&t.db, &t.actor_for(uid, "ana@example.com", Role::User)).await,
        "forbidden",
        "a user may not read the policy history",
    );
});
