//! Suspicious sign-ins: the pure rules that look at a sign-in against the user's recent history and
//! say what looks wrong (a new country, impossible travel, a burst of sign-ins, a success after many
//! failures), and what a flag still open asks of the session it names (step-up: authenticate again
//! before sensitive self-service actions). Which rules run, and their thresholds, are the policy's
//! `detection.*` section; the operation that records what they find, and asks for the step-up, is
//! [`crate::ops::detection`].

use crate::model::clock::{Millis, DAY};
use crate::model::flag::Severity;
use crate::model::policy::DetectionPolicy;

/// How far back the user's sessions are read for "new country".
pub const LOOKBACK: Millis = 90 * DAY;
/// The most past sessions read; a user with more in the lookback is judged by the newest.
pub const HISTORY_LIMIT: i64 = 500;

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

/// A flag raised on a session and not yet closed in review, as the step-up rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFlag {
    /// The rule that raised it (`new_country`, …).
    pub rule: String,
    pub raised_at: Millis,
}

/// Step-up after a flag: the rules of a session's open flags that its holder has not answered by
/// authenticating again since they were raised, sorted, each once. A session whose authentication (its
/// sign-in, or its latest re-authentication: `authenticated_at`) is not later than the raising of a
/// flag still open on it must authenticate again before sensitive self-service actions. Nothing is due
/// when `detection.step_up` is off, or once every flag is closed in review.
pub fn step_up_due(p: &DetectionPolicy, authenticated_at: Millis, open: &[OpenFlag]) -> Vec<String> {
    if !p.step_up {
        return Vec::new();
    }
    let mut due: Vec<String> = open
        .iter()
        .filter(|f| authenticated_at <= f.raised_at)
        .map(|f| f.rule.clone())
        .collect();
    due.sort_unstable();
    due.dedup();
    due
}

/// A rule's name as a person reads it: `impossible_travel` is "impossible travel".
pub fn rule_label(rule: &str) -> String {
    match rule {
        "rapid_sign_ins" => "rapid sign-ins".to_owned(),
        "success_after_failures" => "a success after failed attempts".to_owned(),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::{HOUR, MINUTE};
    use crate::model::policy::Duration;

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

    fn open(rule: &str, raised_at: Millis) -> OpenFlag {
        OpenFlag {
            rule: rule.into(),
            raised_at,
        }
    }

    #[test]
    fn a_flag_still_open_asks_for_a_step_up_until_the_session_authenticates_again() {
        let p = DetectionPolicy::default();
        let flags = [open("impossible_travel", NOW), open("rapid_sign_ins", NOW)];
        assert_eq!(
            step_up_due(&p, NOW, &flags),
            ["impossible_travel", "rapid_sign_ins"],
            "the sign-in that raised them is no answer to them"
        );
        assert_eq!(
            step_up_due(&p, NOW - MINUTE, &[open("new_country", NOW)]),
            ["new_country"],
            "nor an older authentication"
        );
        assert!(
            step_up_due(&p, NOW + 1, &flags).is_empty(),
            "a re-authentication after the raising answers them"
        );
        assert!(step_up_due(&p, NOW, &[]).is_empty(), "no open flag, nothing due");
        let twice = [open("new_country", NOW), open("new_country", NOW)];
        assert_eq!(step_up_due(&p, NOW, &twice), ["new_country"], "each rule once");
        let off = DetectionPolicy { step_up: false, ..p };
        assert!(step_up_due(&off, NOW, &flags).is_empty(), "detection.step_up = false");
    }

    #[test]
    fn every_rule_reads_as_words() {
        for rule in [
            "new_country",
            "impossible_travel",
            "rapid_sign_ins",
            "success_after_failures",
        ] {
            let label = rule_label(rule);
            assert!(!label.contains('_'), "{rule}: {label}");
        }
        assert_eq!(rule_label("impossible_travel"), "impossible travel");
    }
}
