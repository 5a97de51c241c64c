//! The audit screen's door functions: filters as typed (each alone, combined, and malformed), the keyset
//! page, the export (its content is exactly the filtered query, in CSV and JSON, streamed in batches,
//! snapshotted, audited, written beside the target and renamed) and who may do what.

use serde_json::Value;
use warden_core::model::audit::Record;
use warden_core::model::authz::{Actor, Admin, Staff};
use warden_core::model::clock::format_ms;
use warden_core::model::vocab::AuditAction;
use warden_core::ops::admin;
use warden_core::ops::audit::{self, AuditEvent, AuditFilter};
use warden_core::ops::audit_query::{self, AuditFilterInput, AuditQuery};
use warden_core::ops::export::{self, ExportFormat};
use warden_core::ops::sessions::ClientInfo;
use warden_core::Role;

use crate::support::*;

/// A few actions by different actors, from different addresses, at different times.
async fn seed(t: &T) -> i64 {
    t.admin_actor().await; // the admin exists from the start
    t.user("ana@example.com", Role::User).await;
    let (s, _) = t.sign_in("ana@example.com").await;
    t.advance(HOUR);
    let mid = t.now();
    // Acting an hour later needs an authentication from now (privileged actions ask for a fresh one).
    let admin = t.admin_actor().await;
    let _ = t
        .try_sign_in("ana@example.com", WRONG_PASSWORD, &ClientInfo::default())
        .await;
    let from_vpn = Admin::for_tests(Actor {
        ip: Some("2001:db8::7".into()),
        ..t.admin_identity().await
    });
    admin::revoke_session(&t.db, &from_vpn, t.now(), s.id, "token leaked, \"quoted\", =cmd")
        .await
        .unwrap();
    admin::unlock_user(&t.db, &admin, t.now(), "ana@example.com", "verified by phone")
        .await
        .unwrap();
    t.advance(HOUR);
    t.user("bob@example.com", Role::User).await;
    t.sign_in("bob@example.com").await;
    mid
}

fn input(f: impl FnOnce(&mut AuditFilterInput)) -> AuditFilterInput {
    let mut i = AuditFilterInput::default();
    f(&mut i);
    i
}

/// Every page of the screen's query, newest first.
async fn screen(t: &T, actor: &Staff, filter: AuditFilterInput) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let q = AuditQuery {
            filter: filter.clone(),
            before,
            limit: 2,
        };
        let page = audit_query::page(&t.db, actor, &q).await.expect("audit page");
        out.extend(page.events);
        match page.next_cursor {
            Some(c) => before = Some(c),
            None => return out,
        }
    }
}

fn actions(evs: &[AuditEvent]) -> Vec<&str> {
    evs.iter().map(|e| e.action.as_str()).collect()
}

async fn export_bytes(t: &T, filter: &AuditFilter, format: ExportFormat) -> (i64, Vec<u8>) {
    let mut out = Vec::new();
    let rows = export::export(
        &t.db,
        &t.admin_actor().await,
        t.now(),
        filter,
        format,
        &mut out,
        &mut |_, _| {},
    )
    .await
    .expect("export");
    (rows, out)
}

both!(typed_filters_each_alone_and_combined, |t| async move {
    let mid = seed(&t).await;
    let admin = t.admin_actor().await;
    let by = |f: fn(&mut AuditFilterInput)| {
        let (t, admin) = (&t, &admin);
        async move { screen(t, admin, input(f)).await }
    };
    assert_eq!(
        actions(&by(|i| i.action = Some("user.".into())).await),
        vec!["user.created", "user.unlocked", "user.created", "user.created"],
        "the user. group, newest first (Bob, Ana's unlock, Ana, the admin)"
    );
    assert_eq!(
        actions(&by(|i| i.action = Some("session.revoked".into())).await),
        vec!["session.revoked"],
        "an exact action"
    );
    assert_eq!(
        actions(&by(|i| i.status = Some("failure".into())).await),
        vec!["auth.sign_in_failed"],
        "status"
    );
    let vpn = by(|i| i.ip = Some("2001:DB8:0::7".into())).await;
    assert_eq!(
        actions(&vpn),
        vec!["session.revoked"],
        "an IP, matched in its canonical form"
    );
    let office = by(|i| i.ip = Some("10.0.0.1".into())).await;
    assert!(
        office.iter().all(|e| e.ip.as_deref() == Some("10.0.0.1")) && actions(&office).contains(&"user.unlocked"),
        "the admin's other actions came from the office: {:?}",
        actions(&office)
    );
    assert_eq!(
        actions(&by(|i| i.reason = Some("phone".into())).await),
        vec!["user.unlocked"],
        "text in the reason"
    );
    assert_eq!(
        actions(&by(|i| i.reason = Some("%".into())).await),
        Vec::<&str>::new(),
        "LIKE wildcards in the search are literal"
    );
    let ana = by(|i| i.user = Some("ANA@example.com".into())).await;
    assert_eq!(
        actions(&ana),
        vec![
            "user.unlocked",
            "session.revoked",
            "auth.sign_in_failed",
            "auth.signed_in",
            "user.created"
        ],
        "the target user, by email (normalised)"
    );
    let root = by(|i| i.actor = Some("root@example".into())).await;
    assert!(root.iter().all(|e| e.actor_label == "root@example.com"));
    assert!(actions(&root).contains(&"session.revoked"), "the actor");
    let from = format_ms(mid);
    let window = screen(
        &t,
        &admin,
        input(|i| {
            i.from = Some(from.clone());
            i.to = Some(format_ms(mid + HOUR));
        }),
    )
    .await;
    assert_eq!(
        actions(&window),
        vec!["user.unlocked", "session.revoked", "auth.sign_in_failed"],
        "the time range [from, to)"
    );
    let combined = screen(
        &t,
        &admin,
        input(|i| {
            i.user = Some("ana@example.com".into());
            i.action = Some("auth.".into());
            i.status = Some("success".into());
        }),
    )
    .await;
    assert_eq!(
        actions(&combined),
        vec!["auth.signed_in"],
        "user + group + status combine with AND"
    );
    let combined = screen(
        &t,
        &admin,
        input(|i| {
            i.ip = Some("10.0.0.1".into());
            i.action = Some("session.".into());
        }),
    )
    .await;
    assert!(combined.is_empty(), "the revocation came from the VPN, not the office");
});

both!(malformed_filters_and_page_sizes_are_named, |t| async move {
    let admin = t.admin_actor().await;
    let page = |filter: AuditFilterInput, limit: u32| {
        let (t, admin) = (&t, &admin);
        async move {
            audit_query::page(
                &t.db,
                admin,
                &AuditQuery {
                    filter,
                    before: None,
                    limit,
                },
            )
            .await
        }
    };
    for limit in [0, 501, u32::MAX] {
        let e = assert_code(
            page(AuditFilterInput::default(), limit).await,
            "invalid_input",
            "page size",
        );
        assert_eq!(e.field(), Some("limit"));
    }
    let cases: Vec<(AuditFilterInput, &str)> = vec![
        (input(|i| i.status = Some("denied".into())), "status"),
        (input(|i| i.from = Some("last tuesday".into())), "from"),
        (input(|i| i.to = Some("2026-02-30".into())), "to"),
        (
            input(|i| {
                i.from = Some("2026-03-01".into());
                i.to = Some("2026-03-01".into());
            }),
            "to",
        ),
        (input(|i| i.ip = Some("10.0.0.0/8".into())), "ip"),
        (input(|i| i.action = Some("session revoked".into())), "action"),
        (input(|i| i.actor = Some("a".repeat(500))), "actor"),
        (input(|i| i.user = Some("not an email".into())), "user"),
    ];
    for (filter, field) in cases {
        let e = assert_code(page(filter.clone(), 50).await, "invalid_input", field);
        assert_eq!(e.field(), Some(field), "{filter:?} names {field}: {e}");
    }
    assert_code(
        page(input(|i| i.user = Some("nobody@example.com".into())), 50).await,
        "user_not_found",
        "an unknown target user",
    );
});

both!(export_content_equals_the_filtered_query, |t| async move {
    seed(&t).await;
    let filter = input(|i| i.user = Some("ana@example.com".into()))
        .resolve(&t.db)
        .await
        .unwrap();
    let expected = t.audit(filter.clone()).await;
    assert!(expected.len() >= 5, "the seed has several events about Ana");

    let (rows, csv) = export_bytes(&t, &filter, ExportFormat::Csv).await;
    assert_eq!(rows as usize, expected.len());
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        export::CSV_HEADER.to_vec()
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), expected.len(), "one CSV row per event");
    for (r, e) in records.iter().zip(&expected) {
        assert_eq!(r[0].parse::<i64>().unwrap(), e.seq, "oldest first, same events");
        assert_eq!(&r[1], format_ms(e.at));
        assert_eq!(r[2].parse::<i64>().unwrap(), e.at);
        assert_eq!(&r[3], e.actor_id.map(|u| u.to_string()).unwrap_or_default());
        assert_eq!(&r[5], e.actor_label);
        assert_eq!(&r[6], e.action);
        assert_eq!(&r[7], e.target_user_id.map(|u| u.to_string()).unwrap_or_default());
        assert_eq!(&r[9], e.status);
        let reason = e.reason.clone().unwrap_or_default();
        let shown = if reason.starts_with('=') {
            format!("'{reason}")
        } else {
            reason
        };
        assert_eq!(&r[10], shown, "the reason survives quoting");
        assert_eq!(&r[11], e.ip.clone().unwrap_or_default());
        assert_eq!(&r[12], e.metadata);
        assert_eq!(&r[14], e.hash);
    }

    let (rows, json) = export_bytes(&t, &filter, ExportFormat::Json).await;
    assert_eq!(rows as usize, expected.len());
    let arr: Vec<Value> = serde_json::from_slice(&json).expect("the JSON export parses");
    assert_eq!(arr.len(), expected.len());
    for (j, e) in arr.iter().zip(&expected) {
        assert_eq!(j["seq"], e.seq);
        assert_eq!(j["at_ms"], e.at);
        assert_eq!(j["action"], e.action.as_str());
        assert_eq!(j["actor_label"], e.actor_label.as_str());
        assert_eq!(j["status"], e.status.as_str());
        assert_eq!(j["reason"].as_str(), e.reason.as_deref(), "verbatim in JSON");
        assert_eq!(j["ip"].as_str(), e.ip.as_deref());
        assert_eq!(
            j["metadata"],
            serde_json::from_str::<Value>(&e.metadata).unwrap(),
            "metadata as JSON"
        );
        assert_eq!(j["prev_hash"], e.prev_hash.as_str());
        assert_eq!(j["hash"], e.hash.as_str());
    }

    let exports = t.audit_action("audit.exported").await;
    assert_eq!(exports.len(), 2, "each export is audited");
    let meta: Value = serde_json::from_str(&exports[1].metadata).unwrap();
    assert_eq!(meta["format"], "json");
    assert_eq!(meta["rows"], expected.len());
    assert!(
        meta["filter"]["target_user"].is_string(),
        "the filter is recorded: {meta}"
    );
    assert!(
        !exports[0].metadata.contains("token leaked"),
        "the export's event holds the filter and count, never the content"
    );
});

both!(export_streams_in_batches_and_is_a_snapshot, |t| async move {
    let actor = Actor::cli(t.now());
    let mut tx = t.db.begin().await.unwrap();
    for i in 0..12_345 {
        warden_core::store::audit::append(
            &mut tx,
            t.now(),
            &actor,
            Record::new(AuditAction::AuditExported).meta(serde_json::json!({ "i": i })),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let all = AuditFilter::default();
    let before = warden_core::store::audit::count(&t.db, &all).await.unwrap();
    let mut calls = Vec::new();
    let mut out = Vec::new();
    let rows = export::export(
        &t.db,
        &t.cli(),
        t.now(),
        &all,
        ExportFormat::Csv,
        &mut out,
        &mut |d, n| calls.push((d, n)),
    )
    .await
    .unwrap();
    assert_eq!(rows, before, "the export's own event is not in it");
    assert_eq!(
        out.iter().filter(|&&b| b == b'\n').count() as i64,
        rows + 1,
        "a header and one line per event (metadata has no newlines)"
    );
    assert!(
        calls.len() >= 3,
        "progress at the start, per 10,000 rows and at the end: {calls:?}"
    );
    assert!(
        calls.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress only moves forward"
    );
    assert_eq!(calls.last().copied(), Some((rows, rows)));
    assert_eq!(
        warden_core::store::audit::count(&t.db, &all).await.unwrap(),
        before + 1,
        "one audit.exported"
    );
});

both!(
    export_to_file_renames_into_place_and_checks_the_role_first,
    |t| async move {
        seed(&t).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.json");
        std::fs::write(&path, "old content").unwrap();
        let admin = t.admin_actor().await;
        let report = audit_query::export_to_file(
            &t.db,
            &admin,
            t.now(),
            &AuditFilter::default(),
            ExportFormat::Json,
            &path,
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(report.file, path.display().to_string());
        let arr: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(arr.len() as i64, report.rows, "the old file is replaced by the export");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["audit.json"], "no partial file is left beside it");

        let support = t.support_actor().await;
        let denied = dir.path().join("denied.csv");
        assert_code(
            audit_query::export_to_file(
                &t.db,
                &Admin::for_tests(support.actor().clone()),
                t.now(),
                &AuditFilter::default(),
                ExportFormat::Csv,
                &denied,
                &mut |_, _| {},
            )
            .await,
            "forbidden",
            "support may read the log but not export it",
        );
        assert!(
            !denied.exists() && !audit_query::partial_path(&denied).exists(),
            "no file is made when forbidden"
        );
        let missing = dir.path().join("no/such/folder/a.csv");
        let e = assert_code(
            audit_query::export_to_file(
                &t.db,
                &admin,
                t.now(),
                &AuditFilter::default(),
                ExportFormat::Csv,
                &missing,
                &mut |_, _| {},
            )
            .await,
            "invalid_input",
            "a folder that does not exist",
        );
        assert_eq!(e.field(), Some("file"));
        assert_eq!(
            t.audit_action("audit.exported").await.len(),
            1,
            "only the export that ran is audited"
        );
    }
);

both!(support_reads_the_log_but_users_do_not, |t| async move {
    seed(&t).await;
    let support = t.support_actor().await;
    let q = AuditQuery {
        limit: 50,
        ..Default::default()
    };
    let page = audit_query::page(&t.db, &support, &q)
        .await
        .expect("support reads the log");
    assert!(!page.events.is_empty());
    assert_code(
        audit::verify(&t.db, &Admin::for_tests(support.actor().clone()), t.now(), |_, _| {}).await,
        "forbidden",
        "support may not verify",
    );
    let eve = t.user("eve@example.com", Role::User).await;
    let user = t.staff_for(eve, "eve@example.com", Role::User);
    assert_code(
        audit_query::page(&t.db, &user, &q).await,
        "forbidden",
        "users may not read the log",
    );
});

both!(verify_reports_progress_up_to_the_head, |t| async move {
    seed(&t).await;
    let head = warden_core::store::audit::head_seq(&t.db).await.unwrap();
    let mut seen = Vec::new();
    let v = audit::verify(&t.db, &t.admin_actor().await, t.now(), |d, n| seen.push((d, n)))
        .await
        .unwrap();
    assert!(v.is_intact());
    assert_eq!(
        seen.last().copied(),
        Some((head, head)),
        "the last report is all of the chain"
    );
    let last = t.audit(AuditFilter::default()).await.pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor_label.as_str()),
        ("audit.verified", "root@example.com"),
        "the check is audited with who ran it"
    );
});
