//! The audit log as the doors use it: reading a page (support and security admins), walking the chain
//! to verify it (security admins; the check is itself audited), and streaming events for an export.

use serde_json::json;

pub use crate::model::audit::{AuditEvent, AuditFilter, AuditPage, Status, Verification};
use crate::model::audit::{Record, GENESIS_HASH};
use crate::model::authz::{Admin, Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::Result;
use crate::model::library::{subject_uuid, SubjectKind};
pub use crate::model::vocab::{AuditAction, AuditActionGroup};
use crate::store::{audit, users, Db};

/// Reads one page of events matching `filter`, seq below `before`, newest first. Needs ViewAudit.
pub async fn list(db: &Db, staff: &Staff, filter: &AuditFilter, before: Option<i64>, limit: u32) -> Result<AuditPage> {
    let actor = staff.actor();
    actor.require(Permission::ViewAudit)?;
    let mut page = audit::list(db, filter, before, limit).await?;
    let mut ids: Vec<uuid::Uuid> = page.events.iter().filter_map(|e| e.target_user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    page.target_emails = users::emails(db, &ids).await?.into_iter().collect();
    if db.library().is_some() {
        // A library's users are not in Warden's tables: each event about one names them in its metadata,
        // under the library id whose audit id it targets.
        for e in &page.events {
            let Some(target) = e.target_user_id else { continue };
            if page.target_emails.contains_key(&target) {
                continue;
            }
            let Ok(meta) = serde_json::from_str::<serde_json::Value>(&e.metadata) else {
                continue;
            };
            if let (Some(id), Some(email)) = (meta["user"].as_str(), meta["email"].as_str()) {
                if subject_uuid(SubjectKind::User, id) == target {
                    page.target_emails.insert(target, email.to_owned());
                }
            }
        }
    }
    Ok(page)
}

/// Walks the chain in seq order up to the head as it stands when the check starts, calling
/// `progress(verified_so_far, total)` after each batch: events that other transactions append meanwhile
/// are left to the next check. The check itself is audited (`audit.verified` with the head it reached,
/// failure status when the chain is broken).
pub async fn verify(db: &Db, admin: &Admin, now: Millis, mut progress: impl FnMut(i64, i64)) -> Result<Verification> {
    let actor = admin.actor();
    actor.require(Permission::VerifyAudit)?;
    let report = walk_chain(db, &mut progress).await?;
    let rec = Record::new(AuditAction::AuditVerified).meta(json!({
        "events_verified": report.events_verified,
        "head_seq": report.head_seq,
        "broken_at": report.broken_at,
        "detail": report.detail,
    }));
    audit::append_alone(db, now, actor, if report.is_intact() { rec } else { rec.failed() }).await?;
    Ok(report)
}

async fn walk_chain(db: &Db, progress: &mut impl FnMut(i64, i64)) -> Result<Verification> {
    const BATCH: i64 = 20_000;
    // The walk stops at the head read here: events appended while it runs are not part of this check
    // (and are not missing from it).
    let (head_seq, head_hash) = audit::head(db).await?;
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut verified = 0_i64;
    let broken = |seq: i64, detail: String, verified: i64| Verification {
        events_verified: verified,
        head_seq,
        broken_at: Some(seq),
        detail: Some(detail),
    };
    loop {
        let batch = audit::events_between(db, expected_seq - 1, head_seq, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        for ev in &batch {
            if ev.seq != expected_seq {
                return Ok(broken(
                    expected_seq,
                    format!("event {expected_seq} is missing (next is {})", ev.seq),
                    verified,
                ));
            }
            if ev.prev_hash != prev_hash {
                return Ok(broken(
                    ev.seq,
                    "its prev_hash does not match the hash of the event before it".into(),
                    verified,
                ));
            }
            if ev.compute_hash() != ev.hash {
                return Ok(broken(
                    ev.seq,
                    "its content does not match its hash (the event was altered)".into(),
                    verified,
                ));
            }
            prev_hash = ev.hash.clone();
            expected_seq += 1;
            verified += 1;
        }
        progress(verified, head_seq);
    }
    if verified != head_seq || prev_hash != head_hash {
        return Ok(broken(
            verified + 1,
            format!("the chain ends at event {verified} but the head records {head_seq} events (events were removed)"),
            verified,
        ));
    }
    Ok(Verification {
        events_verified: verified,
        head_seq,
        broken_at: None,
        detail: None,
    })
}

/// Calls `each` for every event matching `filter`, oldest first, in batches (for export). Needs
/// VerifyAudit.
pub async fn for_each(
    db: &Db,
    admin: &Admin,
    filter: &AuditFilter,
    each: impl FnMut(&AuditEvent) -> Result<()>,
) -> Result<i64> {
    let actor = admin.actor();
    actor.require(Permission::VerifyAudit)?;
    audit::for_each(db, filter, each).await
}
