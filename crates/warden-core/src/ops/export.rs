//! Exporting the audit log: the events matching a filter, oldest first, streamed to a writer as CSV or
//! JSON in batches (memory stays flat on millions of rows). The export itself is audited
//! (`audit.exported`, with the filter and the row count — never the content).

use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::audit::{AuditEvent, AuditFilter, Record};
use crate::model::authz::{Admin, Permission};
use crate::model::clock::{format_ms, Millis};
use crate::model::error::{Error, Result};
use crate::model::vocab::AuditAction;
use crate::ops;
use crate::store::{audit, Db};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ExportFormat {
    /// One header row, then one row per event; RFC 4180 quoting.
    Csv,
    /// One JSON array of event objects, one event per line.
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<ExportFormat> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            _ => Err(Error::invalid("format", "must be csv or json")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

pub const CSV_HEADER: [&str; 15] = [
    "seq",
    "at",
    "at_ms",
    "actor_id",
    "actor_kind",
    "actor_label",
    "action",
    "target_user_id",
    "target_session_id",
    "status",
    "reason",
    "ip",
    "metadata",
    "prev_hash",
    "hash",
];

/// A spreadsheet would run a cell starting with one of these as a formula; such cells are prefixed with
/// a `'` (the usual defence; the JSON export is always verbatim).
fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn csv_row(e: &AuditEvent) -> [String; 15] {
    let opt = |v: &Option<String>| v.as_deref().map(|s| cell(s).into_owned()).unwrap_or_default();
    [
        e.seq.to_string(),
        format_ms(e.at),
        e.at.to_string(),
        e.actor_id.map(|u| u.to_string()).unwrap_or_default(),
        e.actor_kind.clone(),
        cell(&e.actor_label).into_owned(),
        e.action.clone(),
        e.target_user_id.map(|u| u.to_string()).unwrap_or_default(),
        e.target_session_id.map(|u| u.to_string()).unwrap_or_default(),
        e.status.clone(),
        opt(&e.reason),
        opt(&e.ip),
        cell(&e.metadata).into_owned(),
        e.prev_hash.clone(),
        e.hash.clone(),
    ]
}

fn write_err(e: impl std::fmt::Display) -> Error {
    Error::Unexpected(format!("cannot write the export: {e}"))
}

/// Writes every event matching `filter` to `out`; `progress(written, total)` after each batch. Needs
/// the security admin's audit permission. Returns the number of events written.
pub async fn export(
    db: &Db,
    admin: &Admin,
    now: Millis,
    filter: &AuditFilter,
    format: ExportFormat,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn FnMut(i64, i64) + Send),
) -> Result<i64> {
    let actor = admin.actor();
    actor.require(Permission::VerifyAudit)?;
    // A snapshot: what was in the log when the export began, and nothing appended since.
    let head = audit::head_seq(db).await?;
    let filter = &AuditFilter {
        through_seq: Some(filter.through_seq.map_or(head, |s| s.min(head))),
        ..filter.clone()
    };
    let total = audit::count(db, filter).await?;
    progress(0, total);
    let mut written = 0i64;
    let mut tick = |written: i64| {
        if written % 10_000 == 0 {
            progress(written, total.max(written));
        }
    };
    let rows = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(CSV_HEADER).map_err(write_err)?;
            let rows = ops::audit::for_each(db, admin, filter, |e| {
                w.write_record(csv_row(e)).map_err(write_err)?;
                written += 1;
                tick(written);
                Ok(())
            })
            .await?;
            w.flush().map_err(write_err)?;
            rows
        }
        ExportFormat::Json => {
            out.write_all(b"[").map_err(write_err)?;
            let rows = ops::audit::for_each(db, admin, filter, |e| {
                out.write_all(if written == 0 { b"\n" } else { b",\n" })
                    .map_err(write_err)?;
                serde_json::to_writer(&mut *out, &event_json(e)).map_err(write_err)?;
                written += 1;
                tick(written);
                Ok(())
            })
            .await?;
            out.write_all(b"\n]\n").map_err(write_err)?;
            rows
        }
    };
    out.flush().map_err(write_err)?;
    progress(rows, total.max(rows));
    audit::append_alone(
        db,
        now,
        actor,
        Record::new(AuditAction::AuditExported).meta(json!({
            "format": format.as_str(),
            "rows": rows,
            "filter": filter.describe(),
            "through_seq": filter.through_seq,
        })),
    )
    .await?;
    Ok(rows)
}

/// An event as exported: its stored fields, the metadata parsed back into JSON, and the time readable.
fn event_json(e: &AuditEvent) -> serde_json::Value {
    json!({
        "seq": e.seq,
        "at": format_ms(e.at),
        "at_ms": e.at,
        "actor_id": e.actor_id,
        "actor_kind": e.actor_kind,
        "actor_label": e.actor_label,
        "action": e.action,
        "target_user_id": e.target_user_id,
        "target_session_id": e.target_session_id,
        "status": e.status,
        "reason": e.reason,
        "ip": e.ip,
        "metadata": serde_json::from_str::<serde_json::Value>(&e.metadata).unwrap_or_else(|_| e.metadata.clone().into()),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@x"), "'@x");
        assert_eq!(cell("plain reason"), "plain reason");
        assert_eq!(cell("{\"a\":1}"), "{\"a\":1}");
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!(ExportFormat::parse("csv").unwrap(), ExportFormat::Csv);
        assert_eq!(ExportFormat::parse("json").unwrap(), ExportFormat::Json);
        assert_eq!(ExportFormat::parse("xml").unwrap_err().code(), "invalid_input");
    }
}
