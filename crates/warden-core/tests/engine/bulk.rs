//! The sessions screen's filters and bulk termination: dry run, batches with their audit records,
//! progress, cancel, the operator's own session, and who may do it.

use std::sync::atomic::{AtomicBool, Ordering};

use uuid::Uuid;
use warden_core::model::authz::{Admin, Staff};
use warden_core::model::session_filter::{SessionFilter, SessionState};
use warden_core::ops::admin::{self, SessionQuery, SessionSort};
use warden_core::ops::audit;
use warden_core::ops::bulk::{self, BulkProgress, BulkRequest, BulkSummary, BulkTarget};
use warden_core::ops::sessions::{ClientInfo, SessionRow};
use warden_core::{Actor, Role};

use crate::support::*;

const CHROME_WIN: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

fn from(ip: &str, ua: &str, country: &str, client: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.into()),
        user_agent: Some(ua.into()),
        country: Some(country.into()),
        city: None,
        client: Some(client.into()),
    }
}

async fn ids(t: &T, actor: &Staff, filter: SessionFilter) -> Vec<Uuid> {
    admin::sessions_page(
        &t.db,
        actor,
        &SessionQuery {
            filter,
            limit: 500,
            ..Default::default()
        },
        t.now(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .sessions
    .into_iter()
    .map(|s| s.view.session.id)
    .collect()
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

/// The admin signed in, acting through that session (as the console does).
async fn admin_with_session(t: &T) -> (Admin, SessionRow) {
    let a = t.admin_identity().await;
    let (s, _) = t.sign_in(&a.label).await;
    (
        Admin::for_tests(Actor {
            session_id: Some(s.id),
            ..a
        }),
        s,
    )
}

async fn run(t: &T, actor: &Staff, req: &BulkRequest, batch: u32) -> (BulkSummary, Vec<BulkProgress>) {
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let req = BulkRequest {
        reason: "incident 42".into(),
        batch_size: Some(batch),
        ..req.clone()
    };
    let summary = bulk::run(&t.db, actor, &t.clock, &req, &cancel, &mut |p| seen.push(p))
        .await
        .unwrap_or_else(|e| panic!("bulk run: {e}"));
    (summary, seen)
}

fn filter(f: impl FnOnce(&mut SessionFilter)) -> BulkRequest {
    let mut filter = SessionFilter::default();
    f(&mut filter);
    BulkRequest {
        target: BulkTarget::Filter(Box::new(filter)),
        include_own: false,
        reason: String::new(),
        batch_size: None,
    }
}

both!(sessions_page_filters_sort_and_page, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    t.user("sam@example.com", Role::Support).await;
    let (a1, _) = t
        .sign_in_with("ana@example.com", &from("203.0.113.7", CHROME_WIN, "DE", "web"))
        .await;
    t.advance(MINUTE);
    let (a2, _) = t
        .sign_in_with("ana@example.com", &from("198.51.100.20", IPHONE, "FR", "ios"))
        .await;
    t.advance(MINUTE);
    let (b1, _) = t
        .sign_in_with("bob@example.com", &from("203.0.113.200", IPHONE, "de", "web"))
        .await;
    t.advance(MINUTE);
    let (s1, _) = t
        .sign_in_with("sam@example.com", &from("2001:db8::1", CHROME_WIN, "US", "console"))
        .await;
    let all = |f: fn(&mut SessionFilter)| {
        let mut x = SessionFilter::default();
        f(&mut x);
        x
    };
    assert_eq!(
        ids(&t, &admin, SessionFilter::default()).await,
        vec![s1.id, b1.id, a2.id, a1.id],
        "every live session, newest first"
    );
    assert_eq!(
        sorted(ids(&t, &admin, all(|f| f.user = Some("ana@example.com".into()))).await),
        sorted(vec![a1.id, a2.id])
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.ip = Some("203.0.113.7".into()))).await,
        vec![a1.id]
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.ip = Some("203.0.113.0/24".into()))).await,
        vec![b1.id, a1.id],
        "an IPv4 range"
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.ip = Some("2001:DB8::1".into()))).await,
        vec![s1.id]
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.country = Some("de".into()))).await,
        vec![b1.id, a1.id],
        "country, any case"
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.device = Some("mobile".into()))).await,
        vec![b1.id, a2.id]
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.os = Some("ios".into()))).await,
        vec![b1.id, a2.id],
        "an OS family finds every version of it (stored as \"iOS 17.1\")"
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.os = Some("iOS 17.1".into()))).await,
        vec![b1.id, a2.id],
        "and the exact name still matches"
    );
    assert!(
        ids(&t, &admin, all(|f| f.os = Some("iOS 17".into()))).await.is_empty(),
        "a version prefix is not a family"
    );
    assert!(
        ids(&t, &admin, all(|f| f.os = Some("%".into()))).await.is_empty(),
        "LIKE wildcards in the value match themselves only"
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.browser = Some("chrome".into()))).await,
        vec![s1.id, a1.id]
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.client = Some("ios".into()))).await,
        vec![a2.id]
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.auth_method = Some("password".into())))
            .await
            .len(),
        4
    );
    assert_eq!(
        ids(&t, &admin, all(|f| f.privileged_only = true)).await,
        vec![s1.id],
        "support's session is privileged"
    );
    let mid = t.session(a2.id).await.created_at;
    let created = ids(
        &t,
        &admin,
        SessionFilter {
            created_from: Some(mid),
            created_to: Some(mid + 2 * MINUTE),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(created, vec![b1.id, a2.id], "created between, end exclusive");

    // Ana keeps using her first session; the others go quiet.
    t.advance(20 * MINUTE);
    let page = admin::sessions_page(
        &t.db,
        &admin,
        &SessionQuery {
            filter: all(|f| f.idle_for = Some("10m".into())),
            sort: SessionSort::LastActive,
            limit: 500,
            ..Default::default()
        },
        t.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        page.sessions.len(),
        4,
        "idle for more than 10 minutes (none validated since)"
    );
    assert_eq!(page.sessions[0].view.session.id, s1.id, "most recently seen first");
    assert!(
        page.sessions.iter().any(|s| s.user_email == "bob@example.com"),
        "rows carry the user's email"
    );

    admin::revoke_session(&t.db, &*t.admin_actor().await, t.now(), b1.id, "test")
        .await
        .unwrap();
    assert_eq!(
        ids(&t, &admin, all(|f| f.status = SessionState::Ended)).await,
        vec![b1.id]
    );
    assert_eq!(ids(&t, &admin, all(|f| f.status = SessionState::All)).await.len(), 4);
    assert_eq!(
        ids(&t, &admin, SessionFilter::default()).await.len(),
        3,
        "active by default"
    );

    // Keyset paging: two at a time, everyone once, in order.
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = admin::sessions_page(
            &t.db,
            &admin,
            &SessionQuery {
                filter: all(|f| f.status = SessionState::All),
                after: after.clone(),
                limit: 2,
                ..Default::default()
            },
            t.now(),
        )
        .await
        .unwrap();
        seen.extend(page.sessions.iter().map(|s| s.view.session.id));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec![s1.id, b1.id, a2.id, a1.id]);

    let count = admin::count_sessions(&t.db, &admin, &SessionFilter::default(), t.now())
        .await
        .unwrap();
    assert_eq!(
        (count.sessions, count.users),
        (3, 2),
        "select all N matching: sessions and users"
    );

    for (f, field) in [
        (all(|f| f.ip = Some("300.1.1.1".into())), "ip"),
        (all(|f| f.ip = Some("10.0.0.0/40".into())), "ip"),
        (all(|f| f.country = Some("Germany".into())), "country"),
        (all(|f| f.device = Some("fridge".into())), "device"),
        (all(|f| f.idle_for = Some("a while".into())), "idle_for"),
        (
            SessionFilter {
                created_from: Some(10),
                created_to: Some(5),
                ..Default::default()
            },
            "created_to",
        ),
    ] {
        let e = assert_code(
            admin::sessions_page(
                &t.db,
                &admin,
                &SessionQuery {
                    filter: f.clone(),
                    limit: 50,
                    ..Default::default()
                },
                t.now(),
            )
            .await,
            "invalid_input",
            field,
        );
        assert_eq!(e.field(), Some(field), "{f:?}: {e}");
    }
    assert_code(
        admin::sessions_page(
            &t.db,
            &admin,
            &SessionQuery {
                filter: all(|f| f.user = Some("nobody@example.com".into())),
                limit: 50,
                ..Default::default()
            },
            t.now(),
        )
        .await,
        "user_not_found",
        "an unknown user",
    );
});

both!(bulk_dry_run_then_batches_each_with_its_audit_record, |t| async move {
    let (admin, _) = admin_with_session(&t).await;
    let mut de = Vec::new();
    let mut tokens = Vec::new();
    for n in 0..4 {
        let email = format!("u{n}@example.com");
        t.user(&email, Role::User).await;
        for _ in 0..2 {
            let (s, tok) = t
                .sign_in_with(&email, &from("203.0.113.9", CHROME_WIN, "DE", "web"))
                .await;
            de.push(s.id);
            tokens.push(tok);
        }
    }
    let (fr, fr_token) = t
        .sign_in_with("u0@example.com", &from("198.51.100.1", IPHONE, "FR", "web"))
        .await;
    let req = filter(|f| f.country = Some("DE".into()));

    let plan = bulk::plan(&t.db, &admin, &req, t.now()).await.unwrap();
    assert_eq!((plan.sessions, plan.users), (8, 4), "dry run: sessions and users");
    assert_eq!(plan.sample.len(), 5, "a sample of the sessions");
    assert!(plan
        .sample
        .iter()
        .all(|s| s.view.session.country.as_deref() == Some("DE")));
    assert!(!plan.own_session_kept, "the admin's own session is not in this filter");
    assert!(!plan.needs_typed_confirmation, "8 sessions is not a large action");
    for tok in &tokens {
        t.validate(tok).await.expect("a dry run changes nothing");
    }

    let (summary, progress) = run(&t, &admin, &req, 3).await;
    assert_eq!(summary.matched, 8);
    assert_eq!(summary.terminated, 8);
    assert_eq!((summary.already_ended, summary.skipped, summary.failed), (0, 0, 0));
    assert_eq!(summary.batches, 3, "8 sessions in batches of 3");
    assert!(!summary.cancelled && summary.error.is_none());
    let done: Vec<u64> = progress.iter().map(|p| p.done).collect();
    assert_eq!(done, vec![0, 3, 6, 8], "progress after every batch");
    assert!(progress.iter().all(|p| p.total == 8));
    for tok in &tokens {
        assert_code(t.validate(tok).await, "unauthenticated", "a bulk-ended session is dead");
    }
    t.validate(&fr_token)
        .await
        .expect("sessions outside the filter live on");
    for id in &de {
        let row = t.session(*id).await;
        assert_eq!(
            row.revoke_reason.as_deref(),
            Some("bulk"),
            "a bulk run is told apart from a one-off admin revocation"
        );
        assert_eq!(row.revoked_by.as_deref(), Some("root@example.com"));
        assert!(
            t.session_events(*id)
                .await
                .iter()
                .any(|(k, d)| k == "revoked" && d.as_deref() == Some("bulk")),
            "the session's timeline shows its end and why"
        );
    }
    let _ = fr;

    let batches = t.audit_action("session.bulk_batch").await;
    assert_eq!(batches.len(), 3, "one audit record per batch");
    let mut listed: Vec<String> = Vec::new();
    for b in &batches {
        let meta: serde_json::Value = serde_json::from_str(&b.metadata).unwrap();
        assert_eq!(meta["bulk_id"], summary.bulk_id.to_string());
        assert_eq!(b.reason.as_deref(), Some("incident 42"));
        listed.extend(
            meta["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
    }
    let mut expected: Vec<String> = de.iter().map(Uuid::to_string).collect();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected, "the batches list exactly the ended sessions");
    let done_ev = t.audit_action("session.bulk_revoked").await;
    assert_eq!(done_ev.len(), 1);
    assert_eq!(done_ev[0].seq, summary.audit_seq);
    let meta: serde_json::Value = serde_json::from_str(&done_ev[0].metadata).unwrap();
    assert_eq!(meta["terminated"], 8);
    assert_eq!(meta["filter"]["country"], "DE");
    let seqs: Vec<i64> = meta["batch_seqs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        batches.iter().map(|b| b.seq).collect::<Vec<_>>(),
        "the summary links its batches"
    );
    assert!(audit::verify(&t.db, &admin, t.now(), |_, _| {})
        .await
        .unwrap()
        .is_intact());

    let again = bulk::plan(&t.db, &admin, &req, t.now()).await.unwrap();
    assert_eq!(again.sessions, 0, "nothing left to end");
});

both!(emergency_keeps_the_operators_session_unless_included, |t| async move {
    let (admin, own) = admin_with_session(&t).await;
    let mut tokens = Vec::new();
    for n in 0..3 {
        let email = format!("u{n}@example.com");
        t.user(&email, Role::User).await;
        tokens.push(t.sign_in(&email).await.1);
    }
    let everyone = BulkRequest {
        target: BulkTarget::Everyone,
        include_own: false,
        reason: String::new(),
        batch_size: None,
    };
    let plan = bulk::plan(&t.db, &admin, &everyone, t.now()).await.unwrap();
    assert_eq!(plan.sessions, 3);
    assert!(plan.own_session_kept, "the dry run says the operator's session is kept");
    assert!(
        plan.needs_typed_confirmation,
        "an emergency always asks for typed confirmation"
    );
    let (summary, _) = run(&t, &admin, &everyone, 1000).await;
    assert_eq!((summary.terminated, summary.skipped), (3, 1));
    for tok in &tokens {
        assert_code(t.validate(tok).await, "unauthenticated", "everyone is signed out");
    }
    let emergency = t
        .count("SELECT COUNT(*) FROM sessions WHERE revoke_reason = 'emergency'")
        .await;
    assert_eq!(
        emergency, 3,
        "the emergency is recorded as such on every session it ended"
    );
    assert!(
        t.session(own.id).await.revoked_at.is_none(),
        "the operator's session is kept"
    );
    let live = admin::count_sessions(&t.db, &admin, &SessionFilter::default(), t.now())
        .await
        .unwrap();
    assert_eq!(live.sessions, 1, "afterwards only the operator's session is active");

    let (summary, _) = run(
        &t,
        &admin,
        &BulkRequest {
            target: BulkTarget::Everyone,
            include_own: true,
            reason: String::new(),
            batch_size: None,
        },
        1000,
    )
    .await;
    assert_eq!(summary.terminated, 1, "including mine");
    assert!(t.session(own.id).await.revoked_at.is_some());
});

both!(support_may_bulk_end_only_one_users_sessions, |t| async move {
    let support = t.support_actor().await;
    t.user("ana@example.com", Role::User).await;
    t.user("bob@example.com", Role::User).await;
    let (a1, _) = t.sign_in("ana@example.com").await;
    let (a2, _) = t.sign_in("ana@example.com").await;
    let (b1, _) = t.sign_in("bob@example.com").await;
    for (req, why) in [
        (filter(|f| f.country = Some("DE".into())), "a filter across users"),
        (
            BulkRequest {
                target: BulkTarget::Everyone,
                include_own: false,
                reason: String::new(),
                batch_size: None,
            },
            "the emergency",
        ),
        (
            BulkRequest {
                target: BulkTarget::Sessions(vec![a1.id, b1.id]),
                include_own: false,
                reason: String::new(),
                batch_size: None,
            },
            "a selection across users",
        ),
    ] {
        assert_code(bulk::plan(&t.db, &support, &req, t.now()).await, "forbidden", why);
        let cancel = AtomicBool::new(false);
        assert_code(
            bulk::run(
                &t.db,
                &support,
                &t.clock,
                &BulkRequest {
                    reason: "why".into(),
                    ..req.clone()
                },
                &cancel,
                &mut |_| {},
            )
            .await,
            "forbidden",
            why,
        );
    }
    let one = BulkRequest {
        target: BulkTarget::Sessions(vec![a1.id, a2.id]),
        include_own: false,
        reason: String::new(),
        batch_size: None,
    };
    assert_eq!(bulk::plan(&t.db, &support, &one, t.now()).await.unwrap().sessions, 2);
    let (summary, _) = run(&t, &support, &one, 100).await;
    assert_eq!(summary.terminated, 2, "support ends one user's sessions in bulk");
    let ev = t.audit_action("session.bulk_revoked").await;
    assert_eq!(ev[0].actor_label, "helpdesk@example.com");
    assert!(ev[0].target_user_id.is_some(), "a one-user bulk names the user");
    let by_filter = filter(|f| f.user = Some("bob@example.com".into()));
    assert_eq!(run(&t, &support, &by_filter, 100).await.0.terminated, 1);
});

both!(a_selection_reports_already_ended_and_unknown_ids, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    let (live, tok) = t.sign_in("ana@example.com").await;
    let (gone, _) = t.sign_in("ana@example.com").await;
    admin::revoke_session(&t.db, &admin, t.now(), gone.id, "earlier")
        .await
        .unwrap();
    let req = BulkRequest {
        target: BulkTarget::Sessions(vec![live.id, gone.id, Uuid::now_v7()]),
        include_own: false,
        reason: String::new(),
        batch_size: None,
    };
    let plan = bulk::plan(&t.db, &admin, &req, t.now()).await.unwrap();
    assert_eq!((plan.sessions, plan.already_ended), (1, 2));
    let (summary, _) = run(&t, &admin, &req, 10).await;
    assert_eq!((summary.terminated, summary.already_ended), (1, 2));
    assert_code(t.validate(&tok).await, "unauthenticated", "the live one is ended");
    assert_code(
        bulk::plan(
            &t.db,
            &admin,
            &BulkRequest {
                target: BulkTarget::Sessions(vec![]),
                include_own: false,
                reason: String::new(),
                batch_size: None,
            },
            t.now(),
        )
        .await,
        "invalid_input",
        "an empty selection",
    );
});

both!(cancel_stops_between_batches_and_is_audited, |t| async move {
    let admin = t.admin_actor().await;
    let mut tokens = Vec::new();
    for n in 0..5 {
        let email = format!("u{n}@example.com");
        t.user(&email, Role::User).await;
        tokens.push(t.sign_in(&email).await.1);
    }
    let cancel = AtomicBool::new(false);
    let req = BulkRequest {
        target: BulkTarget::Everyone,
        include_own: false,
        reason: String::new(),
        batch_size: None,
    };
    let req = BulkRequest {
        reason: "drill".into(),
        batch_size: Some(2),
        ..req
    };
    let summary = bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |p| {
        if p.batches == 1 {
            cancel.store(true, Ordering::SeqCst);
        }
    })
    .await
    .unwrap();
    assert!(summary.cancelled);
    assert_eq!(
        (summary.terminated, summary.batches),
        (2, 1),
        "stopped after the first batch"
    );
    let mut alive = 0;
    for tok in &tokens {
        if t.validate(tok).await.is_ok() {
            alive += 1;
        }
    }
    assert_eq!(alive, 3, "the rest are untouched");
    let ev = t.audit_action("session.bulk_revoked").await;
    assert!(ev[0].metadata.contains("\"cancelled\":true"), "{}", ev[0].metadata);
});

both!(bulk_needs_a_reason_a_fresh_sign_in_and_a_sane_batch, |t| async move {
    let admin = t.admin_actor().await;
    let req = BulkRequest {
        target: BulkTarget::Everyone,
        include_own: false,
        reason: String::new(),
        batch_size: None,
    };
    let cancel = AtomicBool::new(false);
    assert_code(
        bulk::run(
            &t.db,
            &admin,
            &t.clock,
            &BulkRequest {
                reason: "  ".into(),
                batch_size: Some(100),
                ..req.clone()
            },
            &cancel,
            &mut |_| {},
        )
        .await,
        "invalid_input",
        "a reason is required",
    );
    assert_code(
        bulk::run(
            &t.db,
            &admin,
            &t.clock,
            &BulkRequest {
                reason: "why".into(),
                batch_size: Some(0),
                ..req.clone()
            },
            &cancel,
            &mut |_| {},
        )
        .await,
        "invalid_input",
        "batch size 0",
    );
    t.advance(DAY);
    assert_code(
        bulk::run(
            &t.db,
            &admin,
            &t.clock,
            &BulkRequest {
                reason: "why".into(),
                batch_size: Some(100),
                ..req.clone()
            },
            &cancel,
            &mut |_| {},
        )
        .await,
        "reauth_required",
        "an old sign-in must re-authenticate first",
    );
    assert!(t.audit_action("session.bulk_revoked").await.is_empty(), "nothing ran");
});

both!(ip_ranges_of_both_families_filter_sessions, |t| async move {
    let admin = t.admin_actor().await;
    t.user("ana@example.com", Role::User).await;
    let mut by_ip = Vec::new();
    for ip in [
        "10.1.2.3",
        "10.2.0.1",
        "2001:db8::1",
        "2001:DB8:1::5",
        "2001:db9::1",
        "::ffff:10.1.9.9",
    ] {
        t.advance(SECOND);
        let (s, _) = t
            .sign_in_with("ana@example.com", &from(ip, CHROME_WIN, "DE", "web"))
            .await;
        by_ip.push(s.id);
    }
    let [v4a, v4b, v6a, v6b, v6c, mapped] = by_ip[..] else {
        unreachable!()
    };
    let only = |ip: &str| {
        let ip = ip.to_owned();
        SessionFilter {
            ip: Some(ip),
            ..Default::default()
        }
    };
    let cases: [(&str, Vec<Uuid>, &str); 7] = [
        (
            "10.1.0.0/16",
            vec![mapped, v4a],
            "an IPv4 range, IPv4-mapped IPv6 included",
        ),
        ("10.0.0.0/8", vec![mapped, v4b, v4a], "a wider IPv4 range"),
        (
            "2001:db8::/32",
            vec![v6b, v6a],
            "an IPv6 range, whatever the case and compression",
        ),
        ("2001:db8::/48", vec![v6a], "a narrower IPv6 range"),
        ("2001:db9::1/128", vec![v6c], "a one-address IPv6 range"),
        (
            "::ffff:10.0.0.0/104",
            vec![mapped, v4b, v4a],
            "the mapped form of 10.0.0.0/8",
        ),
        (
            "10.1.9.9",
            vec![mapped],
            "one IPv4 address matches its mapped IPv6 spelling",
        ),
    ];
    for (range, want, why) in cases {
        assert_eq!(ids(&t, &admin, only(range)).await, want, "{range}: {why}");
    }
    let count = admin::count_sessions(&t.db, &admin, &only("2001:db8::/32"), t.now())
        .await
        .unwrap();
    assert_eq!(count.sessions, 2, "the count uses the same filter");
    assert_code(
        admin::count_sessions(&t.db, &admin, &only("2001:db8::/129"), t.now()).await,
        "invalid_input",
        "a prefix past 128",
    );

    // Rows written before `ip_key` existed are filled when the migration runs.
    t.exec("UPDATE sessions SET ip_key = NULL").await.unwrap();
    assert!(ids(&t, &admin, only("10.0.0.0/8")).await.is_empty(), "keys cleared");
    assert_eq!(warden_core::store::sessions::backfill_ip_keys(&t.db).await.unwrap(), 6);
    assert_eq!(
        ids(&t, &admin, only("10.0.0.0/8")).await,
        vec![mapped, v4b, v4a],
        "keys back"
    );
    assert_eq!(
        warden_core::store::sessions::backfill_ip_keys(&t.db).await.unwrap(),
        0,
        "nothing left to fill"
    );
});

/// Runs a statement from inside the (synchronous) progress callback, between two batches.
fn exec_now(t: &T, sql: &str) {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(t.exec(sql)))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

both!(
    a_failure_mid_run_loses_nothing_and_reports_what_was_done,
    |t| async move {
        use warden_core::store::Backend;
        let admin = t.admin_actor().await;
        let mut tokens = Vec::new();
        for n in 0..5 {
            let email = format!("u{n}@example.com");
            t.user(&email, Role::User).await;
            tokens.push(t.sign_in(&email).await.1);
        }
        let req = BulkRequest {
            target: BulkTarget::Everyone,
            include_own: false,
            reason: "token leak".into(),
            batch_size: Some(2),
        };
        // After the first batch the database starts refusing every write to sessions.
        let (refuse, allow): (&[&str], &[&str]) = match t.backend {
        Backend::Sqlite => (
            &["CREATE TRIGGER refuse_session_writes BEFORE UPDATE ON sessions BEGIN SELECT RAISE(ABORT, 'storage refused the write'); END"],
            &["DROP TRIGGER refuse_session_writes"],
        ),
        Backend::Postgres => (
            &[
                "CREATE FUNCTION refuse_session_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'storage refused the write'; END $$",
                "CREATE TRIGGER refuse_session_writes BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION refuse_session_writes()",
            ],
            &["DROP TRIGGER refuse_session_writes ON sessions"],
        ),
    };
        let cancel = AtomicBool::new(false);
        let summary = bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |p| {
            if p.batches == 1 {
                for sql in refuse {
                    exec_now(&t, sql);
                }
            }
        })
        .await
        .expect("a failed batch is reported in the summary, not as an error");
        assert_eq!(
            (summary.matched, summary.terminated, summary.failed, summary.batches),
            (5, 2, 3, 1),
            "the first batch is done, the failed one and the one after it are not"
        );
        assert!(
            summary.error.as_deref().is_some_and(|e| e.contains("refused")),
            "{:?}",
            summary.error
        );
        let mut alive = 0;
        for tok in &tokens {
            alive += usize::from(t.validate(tok).await.is_ok());
        }
        assert_eq!(
            alive, 3,
            "the failed batch was rolled back whole: its sessions are still live"
        );
        assert_eq!(
            t.audit_action("session.bulk_batch").await.len(),
            1,
            "one batch committed, one audit record"
        );
        let ev = &t.audit_action("session.bulk_revoked").await[0];
        assert_eq!(ev.status, "failure", "the summary says the run failed");
        let meta: serde_json::Value = serde_json::from_str(&ev.metadata).unwrap();
        assert_eq!(
            (meta["terminated"].as_u64(), meta["failed"].as_u64()),
            (Some(2), Some(3))
        );

        // Once the database takes writes again, the same request ends exactly the rest.
        for sql in allow {
            t.exec(sql).await.unwrap();
        }
        let again = bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |_| {})
            .await
            .unwrap();
        assert_eq!((again.matched, again.terminated, again.failed), (3, 3, 0));
    }
);

both!(a_dropped_connection_between_batches_loses_nothing, |t| async move {
    use warden_core::store::Backend;
    if t.backend != Backend::Postgres {
        // SQLite is a file, not a connection that a server can drop.
        return;
    }
    let admin = t.admin_actor().await;
    for n in 0..6 {
        let email = format!("u{n}@example.com");
        t.user(&email, Role::User).await;
        t.sign_in(&email).await;
    }
    let req = BulkRequest {
        target: BulkTarget::Everyone,
        include_own: false,
        reason: "token leak".into(),
        batch_size: Some(2),
    };
    let cancel = AtomicBool::new(false);
    let mut dropped = 0;
    let summary = bulk::run(&t.db, &admin, &t.clock, &req, &cancel, &mut |p| {
        if p.batches == 1 {
            // The server ends every other connection of this database, the pool's idle ones included.
            exec_now(
                &t,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            );
            dropped += 1;
        }
    })
    .await
    .expect("the run goes on over fresh connections");
    assert_eq!(dropped, 1);
    assert_eq!((summary.terminated, summary.failed, summary.batches), (6, 0, 3));
    assert_eq!(t.audit_action("session.bulk_batch").await.len(), 3);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL").await,
        0,
        "every session ended, each once"
    );
});

both!(
    without_a_batch_size_a_run_starts_small_and_reports_each_batch,
    |t| async move {
        let admin = t.admin_actor().await;
        t.user("ana@example.com", Role::User).await;
        for _ in 0..5 {
            t.sign_in("ana@example.com").await;
        }
        // 330 sessions, the run the issue saw finish in one batch with no progress shown.
        t.set_policy(&[("session.max_concurrent", "1000")]).await;
        for _ in 0..325 {
            t.sign_in("ana@example.com").await;
        }
        let cancel = AtomicBool::new(false);
        let mut reports = Vec::new();
        let summary = bulk::run(
            &t.db,
            &admin,
            &t.clock,
            &BulkRequest {
                target: BulkTarget::Everyone,
                include_own: false,
                reason: "drill".into(),
                batch_size: None,
            },
            &cancel,
            &mut |p| reports.push((p.done, p.batches)),
        )
        .await
        .unwrap();
        assert_eq!(summary.terminated, 330);
        assert!(summary.batches >= 2, "more than one batch: {}", summary.batches);
        assert_eq!(
            reports.len(),
            summary.batches as usize + 1,
            "a report before and after each batch"
        );
        assert_eq!(
            reports[1],
            (50, 1),
            "the first batch is small, so progress shows at once"
        );
        assert_eq!(*reports.last().unwrap(), (330, summary.batches));
    }
);
