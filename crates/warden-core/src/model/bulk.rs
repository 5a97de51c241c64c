//! Bulk termination's requests and answers: which sessions to end, the dry run, progress, the summary,
//! and a run as recorded while it runs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::clock::{Millis, MINUTE};
use crate::model::session::SessionListItem;
use crate::model::session_filter::SessionFilter;

/// A selection larger than this must be given as a filter ("all N matching").
pub const MAX_SELECTION: usize = 10_000;
pub const MAX_BATCH: u32 = 5_000;
/// Above this many sessions the console asks for a typed confirmation.
pub const LARGE: u64 = 100;

/// Which sessions to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum BulkTarget {
    /// Every live session matching the filter (its `status` is ignored: only live sessions are ended).
    Filter(Box<SessionFilter>),
    /// These sessions, by id.
    Sessions(Vec<Uuid>),
    /// Emergency: every live session of every user.
    Everyone,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkRequest {
    pub target: BulkTarget,
    /// End the operator's own session too when it matches (it is kept otherwise).
    #[serde(default)]
    pub include_own: bool,
    /// Why, for the audit log (required to run; the dry run ignores it).
    #[serde(default)]
    pub reason: String,
    /// Sessions per transaction, 1 to 5000. Without it the size adapts: small at first, then each batch
    /// sized to take about a quarter of a second, so a long run shows its progress and can be cancelled.
    #[serde(default)]
    pub batch_size: Option<u32>,
}

/// The dry run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkPlan {
    /// Live sessions that would be ended.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions: u64,
    /// Distinct users they belong to.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub users: u64,
    /// Selected sessions that have already ended (or do not exist).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub already_ended: u64,
    /// The operator's own session matches and will be kept.
    pub own_session_kept: bool,
    /// A few of the sessions, newest first.
    pub sample: Vec<SessionListItem>,
    /// The console should ask the operator to type a confirmation (large or emergency).
    pub needs_typed_confirmation: bool,
    /// Earlier runs that stopped half-way (their process ended before their summary was written): what
    /// each did and did not do. Starting this run records them as interrupted.
    pub interrupted: Vec<BulkRun>,
}

/// A bulk run as recorded while it runs (`warden sessions bulk-status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkRun {
    pub id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub started_at: Millis,
    pub actor_label: String,
    pub reason: String,
    /// `filter`, `sessions` or `everyone`.
    pub target: String,
    /// Live sessions it set out to end.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matched: i64,
    /// Sessions it ended (the rest of `matched` it did not reach, or they had ended already).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub terminated: i64,
    pub batches: i32,
    /// When it last wrote a batch.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated_at: Millis,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub finished_at: Option<Millis>,
    /// It stopped half-way and was recorded so (`session.bulk_interrupted`).
    pub interrupted: bool,
    /// Its `session.bulk_revoked` (or `session.bulk_interrupted`) event.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub summary_seq: Option<i64>,
}

impl BulkRun {
    /// Unfinished with no batch written for [`STALE_AFTER`]: its process is presumed gone.
    pub fn is_stale(&self, now: Millis) -> bool {
        self.finished_at.is_none() && now.saturating_sub(self.updated_at) > STALE_AFTER
    }
}

/// An unfinished run that wrote no batch for this long is taken as interrupted (a batch takes seconds).
pub const STALE_AFTER: Millis = MINUTE;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkProgress {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub done: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    pub batches: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkSummary {
    pub bulk_id: Uuid,
    /// Live sessions matching when the run started.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matched: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub terminated: u64,
    /// Ended by something else before this run reached them (or selected after they ended).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub already_ended: u64,
    /// Kept on purpose: the operator's own session.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub skipped: u64,
    /// In a batch that could not be written (rolled back; still live).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed: u64,
    pub batches: u32,
    pub cancelled: bool,
    /// What stopped the run, when a batch failed.
    pub error: Option<String>,
    /// The `session.bulk_revoked` audit event.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub audit_seq: i64,
    /// Earlier runs found stopped half-way when this one started, now recorded as interrupted.
    pub interrupted: Vec<BulkRun>,
}
