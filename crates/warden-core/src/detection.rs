//! Suspicious sign-ins. Each successful sign-in is checked against the user's recent history, and what
//! looks wrong raises a **flag** for review (table `flags`, audit event `session.flagged`): a new country,
//! impossible travel, a burst of sign-ins, or a success after many failures. The rules in [`assess`]
//! are pure; [`check`] reads the history and writes the flags in the sign-in's own transaction, so a
//! session and its flags commit together. Which rules run, and their thresholds, are the policy's
//! `detection.*` section. Support and security admins list and resolve flags through [`crate::admin`].

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Record};
use crate::authz::Actor;
use crate::clock::{format_ms, DAY};
use crate::policy::DetectionPolicy;
use crate::sessions::SessionRow;
use crate::store::Tx;
use crate::{with_tx, Millis, Result};

/// How far back the user's sessions are read for "new country".
pub const LOOKBACK: Millis = 90 * DAY;
/// The most past sessions read; a user with more in the lookback is judged by the newest.
const HISTORY_LIMIT: i64 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// One of the user's earlier sessions, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastSession {
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub country: Option<String>,
}

/// Failed sign-ins since the previous success (within a day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentFailures {
    pub count: u32,
    pub addresses: u32,
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `new_country`, `impossible_travel`, `rapid_sign_ins` or `success_after_failures`.
    pub rule: &'static str,
    pub severity: Severity,
    /// One sentence for the reviewer.
    pub detail: String,
}

fn country_key(c: &Option<String>) -> Option<String> {
    c.as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_uppercase)
}

fn minutes(ms: Millis) -> String {
    let m = ms.max(0) / 60_000;
    if m < 120 {
        format!("{m} min")
    } else {
        format!("{} h", m / 60)
    }
}

/// The rules, over a sign-in at `now` from `country`, the user's earlier sessions (newest first or in any
/// order) and the failures before it. Impossible travel, when found, stands for "new country" too.
pub fn assess(
    now: Millis,
    country: &Option<String>,
    history: &[PastSession],
    failures: RecentFailures,
    p: &DetectionPolicy,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let here = country_key(country);
    if let Some(here) = &here {
        let travel = p.travel_window.as_millis();
        let elsewhere = history
            .iter()
            .filter(|s| s.last_seen_at >= now - travel)
            .filter_map(|s| {
                country_key(&s.country)
                    .filter(|c| c != here)
                    .map(|c| (c, s.last_seen_at))
            })
            .max_by_key(|(_, seen)| *seen);
        if let (true, Some((there, seen))) = (p.impossible_travel, &elsewhere) {
            found.push(Finding {
                rule: "impossible_travel",
                severity: Severity::High,
                detail: format!(
                    "signed in from {here} {} after activity from {there}",
                    minutes(now - seen)
                ),
            });
        } else if p.new_country {
            let known: Vec<String> = history.iter().filter_map(|s| country_key(&s.country)).collect();
            if !known.is_empty() && !known.contains(here) {
                let mut seen: Vec<&str> = known.iter().map(String::as_str).collect();
                seen.sort_unstable();
                seen.dedup();
                found.push(Finding {
                    rule: "new_country",
                    severity: Severity::Low,
                    detail: format!(
                        "first sign-in from {here} in 90 days (seen before: {})",
                        seen.join(", ")
                    ),
                });
            }
        }
    }
    if p.rapid_sign_ins > 0 {
        let window = p.rapid_window.as_millis();
        let recent = history.iter().filter(|s| s.created_at > now - window).count() as u64 + 1;
        // Only the sign-in that reaches the threshold: one flag a burst, not one a sign-in.
        if recent == u64::from(p.rapid_sign_ins) {
            found.push(Finding {
                rule: "rapid_sign_ins",
                severity: Severity::Medium,
                detail: format!("{recent} sign-ins within {}", p.rapid_window),
            });
        }
    }
    if p.failures_before_success > 0 && failures.count >= p.failures_before_success {
        found.push(Finding {
            rule: "success_after_failures",
            severity: Severity::High,
            detail: format!(
                "signed in after {} failed attempts from {} address(es)",
                failures.count, failures.addresses
            ),
        });
    }
    found
}

/// Runs the rules for a session just created by a sign-in and records what they find: one flag and one
/// `session.flagged` audit event each, in the caller's transaction. Returns the findings.
pub async fn check(tx: &mut Tx, now: Millis, session: &SessionRow, p: &DetectionPolicy) -> Result<Vec<Finding>> {
    let history: Vec<(Millis, Millis, Option<String>)> = with_tx!(tx, |c| sqlx::query_as(
        "SELECT created_at, last_seen_at, country FROM sessions \
         WHERE user_id = $1 AND created_at > $2 AND id <> $3 ORDER BY created_at DESC LIMIT $4"
    )
    .bind(session.user_id)
    .bind(now - LOOKBACK)
    .bind(session.id)
    .bind(HISTORY_LIMIT)
    .fetch_all(c)
    .await?);
    let history: Vec<PastSession> = history
        .into_iter()
        .map(|(created_at, last_seen_at, country)| PastSession {
            created_at,
            last_seen_at,
            country,
        })
        .collect();
    let failures = if p.failures_before_success > 0 {
        let (count, addresses): (i64, i64) = with_tx!(tx, |c| sqlx::query_as(
            "SELECT count(*), count(DISTINCT ip) FROM login_attempts \
             WHERE user_id = $1 AND outcome <> 'success' AND at > $2 AND at > \
             COALESCE((SELECT max(at) FROM login_attempts WHERE user_id = $1 AND outcome = 'success'), 0)"
        )
        .bind(session.user_id)
        .bind(now - DAY)
        .fetch_one(c)
        .await?);
        RecentFailures {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            addresses: u32::try_from(addresses).unwrap_or(u32::MAX),
        }
    } else {
        RecentFailures::default()
    };
    let found = assess(now, &session.country, &history, failures, p);
    for f in &found {
        let id = Uuid::now_v7();
        with_tx!(tx, |c| sqlx::query(
            "INSERT INTO flags (id, user_id, session_id, rule, severity, detail, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)"
        )
        .bind(id)
        .bind(session.user_id)
        .bind(session.id)
        .bind(f.rule)
        .bind(f.severity.as_str())
        .bind(&f.detail)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
        audit::append(
            tx,
            now,
            &Actor::system(),
            Record::new("session.flagged")
                .user(session.user_id)
                .session(session.id)
                .meta(json!({
                    "flag_id": id.to_string(),
                    "rule": f.rule,
                    "severity": f.severity.as_str(),
                    "detail": f.detail,
                    "at": format_ms(now),
                })),
        )
        .await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{HOUR, MINUTE};
    use crate::policy::Duration;

    const NOW: Millis = 1_767_225_600_000;

    fn past(created_ago: Millis, seen_ago: Millis, country: &str) -> PastSession {
        PastSession {
            created_at: NOW - created_ago,
            last_seen_at: NOW - seen_ago,
            country: Some(country.into()),
        }
    }

    fn rules(found: &[Finding]) -> Vec<&'static str> {
        found.iter().map(|f| f.rule).collect()
    }

    fn de() -> Option<String> {
        Some("DE".into())
    }

    #[test]
    fn a_first_session_raises_nothing() {
        assert!(assess(NOW, &de(), &[], RecentFailures::default(), &DetectionPolicy::default()).is_empty());
    }

    #[test]
    fn a_known_country_raises_nothing_and_a_new_one_is_low() {
        let p = DetectionPolicy::default();
        let h = [past(5 * DAY, 5 * DAY, "de"), past(9 * DAY, 9 * DAY, "FR")];
        assert!(
            assess(NOW, &de(), &h, RecentFailures::default(), &p).is_empty(),
            "country case does not matter"
        );
        let found = assess(NOW, &Some("NZ".into()), &h, RecentFailures::default(), &p);
        assert_eq!(rules(&found), ["new_country"]);
        assert_eq!(found[0].severity, Severity::Low);
        assert_eq!(
            found[0].detail,
            "first sign-in from NZ in 90 days (seen before: DE, FR)"
        );
        let off = DetectionPolicy {
            new_country: false,
            ..p
        };
        assert!(assess(NOW, &Some("NZ".into()), &h, RecentFailures::default(), &off).is_empty());
    }

    #[test]
    fn activity_elsewhere_within_the_travel_window_is_impossible_travel() {
        let p = DetectionPolicy::default();
        let h = [past(3 * DAY, 30 * MINUTE, "DE")];
        let found = assess(NOW, &Some("BR".into()), &h, RecentFailures::default(), &p);
        assert_eq!(rules(&found), ["impossible_travel"], "it stands for new country too");
        assert_eq!(found[0].severity, Severity::High);
        assert_eq!(found[0].detail, "signed in from BR 30 min after activity from DE");
        let later = [past(3 * DAY, 2 * HOUR + MINUTE, "DE")];
        assert_eq!(
            rules(&assess(NOW, &Some("BR".into()), &later, RecentFailures::default(), &p)),
            ["new_country"],
            "outside the window it is only a new country"
        );
        assert!(
            assess(NOW, &None, &h, RecentFailures::default(), &p).is_empty(),
            "an unknown country proves nothing"
        );
    }

    #[test]
    fn the_sign_in_that_reaches_the_rapid_threshold_is_flagged_once() {
        let p = DetectionPolicy {
            rapid_sign_ins: 3,
            rapid_window: Duration::from_mins(10),
            ..DetectionPolicy::default()
        };
        let one = [past(MINUTE, MINUTE, "DE")];
        assert!(assess(NOW, &de(), &one, RecentFailures::default(), &p).is_empty());
        let two = [past(MINUTE, MINUTE, "DE"), past(2 * MINUTE, 2 * MINUTE, "DE")];
        let found = assess(NOW, &de(), &two, RecentFailures::default(), &p);
        assert_eq!(rules(&found), ["rapid_sign_ins"]);
        assert_eq!(found[0].detail, "3 sign-ins within 10m");
        let three = [
            past(MINUTE, MINUTE, "DE"),
            past(2 * MINUTE, 2 * MINUTE, "DE"),
            past(3 * MINUTE, 3 * MINUTE, "DE"),
        ];
        assert!(
            assess(NOW, &de(), &three, RecentFailures::default(), &p).is_empty(),
            "not again for the 4th"
        );
        let old = [past(MINUTE, MINUTE, "DE"), past(11 * MINUTE, 11 * MINUTE, "DE")];
        assert!(
            assess(NOW, &de(), &old, RecentFailures::default(), &p).is_empty(),
            "outside the window"
        );
    }

    #[test]
    fn a_success_after_many_failures_is_high() {
        let p = DetectionPolicy::default();
        let f = RecentFailures {
            count: 12,
            addresses: 4,
        };
        let found = assess(NOW, &de(), &[], f, &p);
        assert_eq!(rules(&found), ["success_after_failures"]);
        assert_eq!(found[0].severity, Severity::High);
        assert_eq!(found[0].detail, "signed in after 12 failed attempts from 4 address(es)");
        assert!(assess(NOW, &de(), &[], RecentFailures { count: 9, addresses: 1 }, &p).is_empty());
        let off = DetectionPolicy {
            failures_before_success: 0,
            ..p
        };
        assert!(assess(NOW, &de(), &[], f, &off).is_empty());
    }
}
