//! The audit log as people ask for it, from the console's toolbar or the CLI's flags: filters typed as
//! text, checked here (each malformed field is `invalid_input` naming the field) and turned into an
//! [`AuditFilter`]; the keyset page of the audit screen; and the export of the filtered set to a file,
//! written beside the target and renamed into place so that a failed export never leaves half a file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::audit::{check_limit, AuditFilter, AuditPage, Status};
use crate::model::authz::{Admin, Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::input::parse_time;
use crate::model::library::{subject_uuid, SubjectKind};
use crate::ops::audit;
use crate::ops::export::{self, ExportFormat};
use crate::store::{subjects, users, Db};

/// The longest text accepted in the actor and reason searches.
pub const MAX_TEXT: usize = 200;

/// The action groups of the audit screen: a prefix ending in a dot matches every action of its group.
pub const ACTION_GROUPS: [&str; 5] = ["session.", "user.", "policy.", "auth.", "flag."];

/// Audit filters as typed. Every field is optional (blank counts as unset) and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AuditFilterInput {
    /// The actor's id, or a part of their label (email, `user@host`).
    pub actor: Option<String>,
    /// The target user's email or id.
    pub user: Option<String>,
    /// An exact action (`session.revoked`) or a group ending in a dot (`session.`, `user.`, `policy.`,
    /// `auth.`, `flag.`).
    pub action: Option<String>,
    /// `success` or `failure`.
    pub status: Option<String>,
    /// The address the actor acted from.
    pub ip: Option<String>,
    /// From this time (RFC 3339 or `YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// Until this time, exclusive.
    pub to: Option<String>,
    /// Text in the reason.
    pub reason: Option<String>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bounded<'a>(field: &str, v: &'a Option<String>) -> Result<Option<&'a str>> {
    match text(v) {
        Some(s) if s.chars().count() > MAX_TEXT => {
            Err(Error::invalid(field, format!("must be at most {MAX_TEXT} characters")))
        }
        other => Ok(other),
    }
}

impl AuditFilterInput {
    /// Parses every field; looks the target user up (an unknown one is `user_not_found`), on an adopted
    /// database among the library's users first.
    pub async fn resolve(&self, db: &Db) -> Result<AuditFilter> {
        let mut f = self.parse_offline()?;
        if let Some(u) = text(&self.user) {
            // On a library's database Warden adopted, its users are the targets (under their audit ids);
            // Warden's own staff accounts are found as on its own schema.
            if db.library().is_some() {
                if let Some(subject) = subjects::user(db, u).await? {
                    f.target_user = Some(subject_uuid(SubjectKind::User, &subject.id));
                    return Ok(f);
                }
            }
            let found = users::find(db, u).await.map_err(|e| match e {
                Error::InvalidInput { .. } => Error::invalid("user", "must be an email address or a user id"),
                other => other,
            })?;
            f.target_user = Some(found.id);
        }
        Ok(f)
    }

    /// Every check that needs no database (all but the target user's lookup).
    fn parse_offline(&self) -> Result<AuditFilter> {
        let action = match text(&self.action) {
            None => None,
            Some(a) => {
                let ok = a.len() <= 64
                    && a.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                    && !a.starts_with('.');
                if !ok {
                    return Err(Error::invalid(
                        "action",
                        "must be an action such as session.revoked, or a group ending in a dot (session., user., policy., auth., flag.)",
                    ));
                }
                Some(a.to_owned())
            }
        };
        let status = match text(&self.status) {
            None => None,
            Some("success") => Some(Status::Success),
            Some("failure") => Some(Status::Failure),
            Some(_) => return Err(Error::invalid("status", "must be success or failure")),
        };
        let ip = match text(&self.ip) {
            None => None,
            Some(s) => Some(
                s.parse::<IpAddr>()
                    .map_err(|_| Error::invalid("ip", "must be an IP address (203.0.113.7 or 2001:db8::1)"))?
                    .to_string(),
            ),
        };
        let from: Option<Millis> = text(&self.from).map(|s| parse_time("from", s)).transpose()?;
        let to: Option<Millis> = text(&self.to).map(|s| parse_time("to", s)).transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                return Err(Error::invalid("to", "must be later than from"));
            }
        }
        Ok(AuditFilter {
            actor: bounded("actor", &self.actor)?.map(str::to_owned),
            action,
            status,
            ip,
            from,
            to,
            reason: bounded("reason", &self.reason)?.map(str::to_owned),
            ..Default::default()
        })
    }
}

/// One request of the audit screen: the filters, the `next_cursor` of the previous page, the page size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AuditQuery {
    pub filter: AuditFilterInput,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of the audit log, newest first. Needs ViewAudit (support and security admins).
pub async fn page(db: &Db, staff: &Staff, q: &AuditQuery) -> Result<AuditPage> {
    let actor = staff.actor();
    actor.require(Permission::ViewAudit)?;
    check_limit(q.limit)?;
    let filter = q.filter.resolve(db).await?;
    audit::list(db, staff, &filter, q.before, q.limit).await
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportReport {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rows: i64,
    pub format: ExportFormat,
    /// The file written, for the operator to find it.
    pub file: String,
}

/// The file an export is written to before it is renamed to `path`: beside it, hidden, so the rename is
/// atomic on the same file system and a half-written export never sits under the final name.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Exports the events matching `filter` to the file at `path` (replacing it), streamed: memory stays
/// flat however many rows. Needs the security admin's audit permission, checked before any file is made.
/// The export is audited (`audit.exported`) by [`export::export`].
pub async fn export_to_file(
    db: &Db,
    admin: &Admin,
    now: Millis,
    filter: &AuditFilter,
    format: ExportFormat,
    path: &Path,
    progress: &mut (dyn FnMut(i64, i64) + Send),
) -> Result<ExportReport> {
    let actor = admin.actor();
    actor.require(Permission::VerifyAudit)?;
    if path.file_name().is_none() || path.is_dir() {
        return Err(Error::invalid("file", format!("{} is not a file name", path.display())));
    }
    let tmp = partial_path(path);
    let file = std::fs::File::create(&tmp)
        .map_err(|e| Error::invalid("file", format!("cannot create {}: {e}", tmp.display())))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    let result = export::export(db, admin, now, filter, format, &mut out, progress).await;
    let finished = result.and_then(|rows| {
        let file = out
            .into_inner()
            .map_err(|e| Error::Unexpected(format!("cannot write {}: {}", tmp.display(), e.error())))?;
        file.sync_all()
            .map_err(|e| Error::Unexpected(format!("cannot write {}: {e}", tmp.display())))?;
        drop(file);
        std::fs::rename(&tmp, path)
            .map_err(|e| Error::invalid("file", format!("cannot write {}: {e}", path.display())))?;
        Ok(rows)
    });
    match finished {
        Ok(rows) => Ok(ExportReport {
            rows,
            format,
            file: path.display().to_string(),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// How far an export or a verification has got, sent after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditProgress {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub done: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(f: impl FnOnce(&mut AuditFilterInput)) -> AuditFilterInput {
        let mut i = AuditFilterInput::default();
        f(&mut i);
        i
    }

    fn field_of(i: AuditFilterInput) -> (String, String) {
        match i.parse_offline().unwrap_err() {
            Error::InvalidInput { field, rule } => (field, rule),
            other => panic!("expected invalid_input, got {other:?}"),
        }
    }

    #[test]
    fn blank_fields_are_unset() {
        let f = input(|i| {
            i.actor = Some("  ".into());
            i.status = Some(String::new());
            i.from = Some(" ".into());
        })
        .parse_offline()
        .unwrap();
        assert!(f.actor.is_none() && f.status.is_none() && f.from.is_none());
    }

    #[test]
    fn malformed_fields_are_named() {
        assert_eq!(field_of(input(|i| i.status = Some("ok".into()))).0, "status");
        assert_eq!(field_of(input(|i| i.from = Some("yesterday".into()))).0, "from");
        assert_eq!(field_of(input(|i| i.to = Some("2026-13-01".into()))).0, "to");
        assert_eq!(field_of(input(|i| i.ip = Some("10.0.0".into()))).0, "ip");
        assert_eq!(field_of(input(|i| i.action = Some("DROP TABLE".into()))).0, "action");
        assert_eq!(field_of(input(|i| i.reason = Some("x".repeat(201)))).0, "reason");
        let (field, rule) = field_of(input(|i| {
            i.from = Some("2026-02-01".into());
            i.to = Some("2026-01-01".into());
        }));
        assert_eq!((field.as_str(), rule.as_str()), ("to", "must be later than from"));
    }

    #[test]
    fn groups_and_addresses_are_normalised() {
        let f = input(|i| {
            i.action = Some(" session. ".into());
            i.ip = Some("2001:DB8::0:1".into());
            i.status = Some("failure".into());
        })
        .parse_offline()
        .unwrap();
        assert_eq!(f.action.as_deref(), Some("session."));
        assert_eq!(f.ip.as_deref(), Some("2001:db8::1"));
        assert_eq!(f.status, Some(Status::Failure));
    }

    #[test]
    fn the_partial_file_sits_beside_the_target() {
        assert_eq!(
            partial_path(Path::new("/tmp/x/audit.csv")),
            PathBuf::from("/tmp/x/.audit.csv.partial")
        );
    }
}
