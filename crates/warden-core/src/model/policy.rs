//! The tenant's auth policy: how long sessions live, when accounts lock, what passwords must look
//! like. It is one value, edited as a whole or key by key (`session.ttl = 12h`) from the console, the
//! CLI and the HTTP API, and stored as JSON.
//!
//! Why it looks like this:
//! - Durations are written the way people say them (`30m`, `12h`, `7d`, `1h30m`) both in the editors
//!   and in the stored JSON, so a policy file reads like the settings screen.
//! - Every key has a dotted name; the same names appear in validation errors, in `get`/`set`, and in
//!   [`PolicyChange`] diffs for the audit log, so an operator sees one vocabulary everywhere.
//! - Validation reports *all* violations (for inline form errors) and never partially applies:
//!   [`Policy::apply`] works on a copy and returns it only when the whole result is valid. Cross-field
//!   rules (e.g. `idle_timeout ≤ ttl`) are checked after all assignments, so an edit that raises
//!   both `ttl` and `idle_timeout` does not fail half-way.
//! - Privileged (admin) sessions may only be *stricter* than ordinary ones; a policy that made the
//!   admin console easier to stay signed into than the app would be a misconfiguration.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};

const SECS_PER_MINUTE: u64 = 60;
const SECS_PER_HOUR: u64 = 60 * SECS_PER_MINUTE;
const SECS_PER_DAY: u64 = 24 * SECS_PER_HOUR;
const SECS_PER_WEEK: u64 = 7 * SECS_PER_DAY;

/// What a duration value must look like, shared by `set`, JSON errors and serde.
const DURATION_RULE: &str = "must be a duration such as 30m, 12h or 7d";

/// A policy duration with second resolution.
///
/// Invariant: the unit is whole seconds; there is no sub-second policy setting. The written form is
/// a bare number of seconds (`90`) or one or more `<number><unit>` parts with units `w d h m s` in
/// strictly decreasing order (`1h30m`, `2w`, `45s`). [`fmt::Display`] writes the exact value with
/// the largest units `d h m s` (weeks are accepted on input but not written, since `30d` reads
/// better than `4w2d`), so `Duration::parse(&d.to_string()) == Some(d)` for every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_secs(secs: u64) -> Duration {
        Duration(secs)
    }

    pub const fn from_mins(mins: u64) -> Duration {
        Duration(mins * SECS_PER_MINUTE)
    }

    pub const fn from_hours(hours: u64) -> Duration {
        Duration(hours * SECS_PER_HOUR)
    }

    pub const fn from_days(days: u64) -> Duration {
        Duration(days * SECS_PER_DAY)
    }

    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// The duration in milliseconds, saturating at `Millis::MAX` (only reachable with absurd
    /// values that validation rejects anyway).
    pub fn as_millis(self) -> Millis {
        i64::try_from(self.0)
            .ok()
            .and_then(|secs| secs.checked_mul(1_000))
            .unwrap_or(Millis::MAX)
    }

    /// Parses `45s`, `30m`, `12h`, `7d`, `2w`, combinations in decreasing unit order (`1h30m`,
    /// `1d12h`) and a bare integer meaning seconds. Surrounding whitespace is ignored. Returns
    /// `None` for anything else, including out-of-order or repeated units and overflow.
    pub fn parse(text: &str) -> Option<Duration> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse().ok().map(Duration);
        }
        let mut total: u64 = 0;
        // Size in seconds of the previous part's unit; each next unit must be strictly smaller.
        let mut previous_unit: Option<u64> = None;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let (number, tail) = rest.split_at(digits);
            let mut chars = tail.chars();
            let unit = match chars.next()? {
                'w' => SECS_PER_WEEK,
                'd' => SECS_PER_DAY,
                'h' => SECS_PER_HOUR,
                'm' => SECS_PER_MINUTE,
                's' => 1,
                _ => return None,
            };
            if previous_unit.is_some_and(|previous| unit >= previous) {
                return None;
            }
            previous_unit = Some(unit);
            let count: u64 = number.parse().ok()?;
            total = total.checked_add(count.checked_mul(unit)?)?;
            rest = chars.as_str();
        }
        Some(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (size, unit) in [
            (SECS_PER_DAY, 'd'),
            (SECS_PER_HOUR, 'h'),
            (SECS_PER_MINUTE, 'm'),
            (1, 's'),
        ] {
            let count = rest / size;
            if count > 0 {
                write!(f, "{count}{unit}")?;
            }
            rest %= size;
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Duration, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 30m, 12h or 7d")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Duration, E> {
                Duration::parse(text).ok_or_else(|| E::custom(format!("invalid duration `{text}`: {DURATION_RULE}")))
            }
        }

        deserializer.deserialize_str(DurationVisitor)
    }
}

/// What happens when a user signs in while already holding `max_concurrent` sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLimit {
    /// Revoke the least recently created session to make room (the user is never locked out of
    /// signing in by forgotten devices).
    #[default]
    EvictOldest,
    /// Refuse the new sign-in with `SessionLimitReached`.
    Reject,
}

impl OnLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            OnLimit::EvictOldest => "evict_oldest",
            OnLimit::Reject => "reject",
        }
    }

    pub fn parse(text: &str) -> Option<OnLimit> {
        match text.trim() {
            "evict_oldest" => Some(OnLimit::EvictOldest),
            "reject" => Some(OnLimit::Reject),
            _ => None,
        }
    }
}

impl fmt::Display for OnLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole auth policy. Missing sections and keys in JSON take their defaults; unknown keys are
/// an error (a typo must not silently leave a security setting at its default).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub session: SessionPolicy,
    pub privileged: PrivilegedPolicy,
    pub lockout: LockoutPolicy,
    pub password: PasswordPolicy,
    pub email_verification: EmailVerificationPolicy,
    pub detection: DetectionPolicy,
}

/// Ordinary sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionPolicy {
    /// How long a session lasts after its last refresh.
    pub ttl: Duration,
    /// A request later than this after the last refresh extends the session by `ttl`.
    pub refresh_after: Duration,
    /// A session unused for longer than this ends.
    pub idle_timeout: Duration,
    /// Absolute cap from creation; no refresh extends a session past it.
    pub max_lifetime: Duration,
    /// Live sessions per user.
    pub max_concurrent: u32,
    pub on_limit: OnLimit,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            ttl: Duration::from_days(7),
            refresh_after: Duration::from_days(1),
            idle_timeout: Duration::from_days(3),
            max_lifetime: Duration::from_days(30),
            max_concurrent: 10,
            on_limit: OnLimit::EvictOldest,
        }
    }
}

/// Sessions with admin rights; each limit must be at most the ordinary one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivilegedPolicy {
    pub ttl: Duration,
    pub refresh_after: Duration,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
    pub max_concurrent: u32,
    pub on_limit: OnLimit,
    /// Sensitive actions need a sign-in no older than this.
    pub reauth_after: Duration,
}

impl Default for PrivilegedPolicy {
    fn default() -> Self {
        PrivilegedPolicy {
            ttl: Duration::from_hours(8),
            refresh_after: Duration::from_mins(15),
            idle_timeout: Duration::from_mins(30),
            max_lifetime: Duration::from_hours(12),
            max_concurrent: 3,
            on_limit: OnLimit::EvictOldest,
            reauth_after: Duration::from_mins(15),
        }
    }
}

/// Account lockout after repeated failed sign-ins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock the account.
    pub threshold: u32,
    /// Failures older than this (from the first failure of the window) are forgotten.
    pub window: Duration,
    /// Length of the first lock.
    pub duration: Duration,
    /// Each further lock lasts `backoff` times the previous one.
    pub backoff: f64,
    /// A lock this long after the previous one starts the backoff over.
    pub reset_after: Duration,
    /// Cap on a single lock's length.
    pub max_duration: Duration,
    /// The n-th lock in a row is permanent (until an admin unlocks); 0 = never.
    pub permanent_after: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            threshold: 5,
            window: Duration::from_mins(15),
            duration: Duration::from_mins(15),
            backoff: 2.0,
            reset_after: Duration::from_days(1),
            max_duration: Duration::from_hours(24),
            permanent_after: 0,
        }
    }
}

/// Password rules and hashing cost (argon2id; defaults are the OWASP recommendation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub max_length: u32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
    pub reject_common: bool,
    /// Refuse passwords that contain the user's email address, its local part or a word of their name.
    pub reject_personal: bool,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            max_length: 128,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            require_symbol: false,
            reject_common: true,
            reject_personal: true,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
        }
    }
}

/// Email verification tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailVerificationPolicy {
    pub token_ttl: Duration,
    pub required_for_sign_in: bool,
}

impl Default for EmailVerificationPolicy {
    fn default() -> Self {
        EmailVerificationPolicy {
            token_ttl: Duration::from_hours(24),
            required_for_sign_in: false,
        }
    }
}

/// Suspicious sign-ins: which rules raise a flag for review ([`crate::rules::detection`]), and whether a flagged
/// session must re-authenticate before sensitive self-service actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionPolicy {
    /// Flag a sign-in from a country none of the user's sessions of the last 90 days came from.
    pub new_country: bool,
    /// Flag a sign-in from one country while a session in another was active within `travel_window`.
    pub impossible_travel: bool,
    pub travel_window: Duration,
    /// Flag the sign-in that makes this many within `rapid_window`; 0 = off.
    pub rapid_sign_ins: u32,
    pub rapid_window: Duration,
    /// Flag a sign-in that succeeds after this many failures since the previous one (within a day);
    /// 0 = off.
    pub failures_before_success: u32,
    /// Step-up after a flag: a session whose sign-in raised a flag still open must re-authenticate
    /// before it ends other sessions or changes two-factor ([`crate::rules::detection::step_up_due`]).
    pub step_up: bool,
}

impl Default for DetectionPolicy {
    fn default() -> Self {
        DetectionPolicy {
            new_country: true,
            impossible_travel: true,
            travel_window: Duration::from_hours(2),
            rapid_sign_ins: 10,
            rapid_window: Duration::from_mins(10),
            failures_before_success: 10,
            step_up: true,
        }
    }
}

/// The session limits that apply to one session, ordinary or privileged; what the session rules
/// in [`crate::rules`] consume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub ttl: Duration,
    pub refresh_after: Duration,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
    pub max_concurrent: u32,
    pub on_limit: OnLimit,
}

/// One changed key between two policies, for the audit log and the "review changes" screen.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyChange {
    pub key: String,
    pub from: String,
    pub to: String,
}

/// The editor's sections, one per part of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FieldGroup {
    Sessions,
    PrivilegedSessions,
    Lockout,
    Passwords,
    EmailVerification,
    Detection,
}

impl FieldGroup {
    /// The group of a dotted key's section.
    fn of(key: &str) -> FieldGroup {
        match key.split_once('.').map_or(key, |(section, _)| section) {
            "session" => FieldGroup::Sessions,
            "privileged" => FieldGroup::PrivilegedSessions,
            "lockout" => FieldGroup::Lockout,
            "password" => FieldGroup::Passwords,
            "detection" => FieldGroup::Detection,
            _ => FieldGroup::EmailVerification,
        }
    }
}

/// How a value is entered: a human duration (`30m`), a whole number, a decimal number, a switch, or
/// one of [`FieldInfo::choices`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FieldKind {
    Duration,
    Integer,
    Number,
    Boolean,
    Choice,
}

/// One key as an editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldInfo {
    pub key: String,
    pub group: FieldGroup,
    pub kind: FieldKind,
    /// The allowed values of a choice; empty for other kinds.
    pub choices: Vec<String>,
    pub label: String,
    /// One line saying what the key does.
    pub help: String,
}

fn field_info<T: PolicyValue>(_probe: &T, key: &str, label: &str, help: &str) -> FieldInfo {
    FieldInfo {
        key: key.to_owned(),
        group: FieldGroup::of(key),
        kind: T::KIND,
        choices: T::CHOICES.iter().map(|c| (*c).to_owned()).collect(),
        label: label.to_owned(),
        help: help.to_owned(),
    }
}

/// A broken rule, for inline form errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Violation {
    pub field: String,
    pub rule: String,
}

/// A proposed edit checked as a whole: the resulting policy and every error in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The policy with every assignment that parsed applied (a key that did not parse keeps its value).
    pub policy: Policy,
    /// Each key that did not parse (with the form it must take), then every rule the result breaks on
    /// the other keys, in [`KEYS`] order within each part. Empty means the edit can be saved.
    pub violations: Vec<Violation>,
}

/// A value that can sit behind a dotted policy key: rendered for display, parsed from user text.
trait PolicyValue: Sized + DeserializeOwned {
    /// The rule shown when a text does not parse.
    const EXPECTED: &'static str;
    /// How an editor enters it.
    const KIND: FieldKind;
    /// The allowed values of a [`FieldKind::Choice`]; empty otherwise.
    const CHOICES: &'static [&'static str] = &[];
    fn render(&self) -> String;
    fn parse_text(text: &str) -> Option<Self>;
}

impl PolicyValue for Duration {
    const KIND: FieldKind = FieldKind::Duration;
    const EXPECTED: &'static str = DURATION_RULE;
    fn render(&self) -> String {
        self.to_string()
    }
    fn parse_text(text: &str) -> Option<Self> {
        Duration::parse(text)
    }
}

impl PolicyValue for u32 {
    const KIND: FieldKind = FieldKind::Integer;
    const EXPECTED: &'static str = "must be a whole number";
    fn render(&self) -> String {
        self.to_string()
    }
    fn parse_text(text: &str) -> Option<Self> {
        text.trim().parse().ok()
    }
}

impl PolicyValue for bool {
    const KIND: FieldKind = FieldKind::Boolean;
    const EXPECTED: &'static str = "must be true or false";
    fn render(&self) -> String {
        self.to_string()
    }
    fn parse_text(text: &str) -> Option<Self> {
        match text.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl PolicyValue for f64 {
    const KIND: FieldKind = FieldKind::Number;
    const EXPECTED: &'static str = "must be a number such as 2.0";
    fn render(&self) -> String {
        // `{:?}` keeps the fractional part (`2.0`, not `2`), so the factor reads as a factor.
        format!("{self:?}")
    }
    fn parse_text(text: &str) -> Option<Self> {
        text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

impl PolicyValue for OnLimit {
    const KIND: FieldKind = FieldKind::Choice;
    const CHOICES: &'static [&'static str] = &["evict_oldest", "reject"];
    const EXPECTED: &'static str = "must be evict_oldest or reject";
    fn render(&self) -> String {
        self.as_str().to_owned()
    }
    fn parse_text(text: &str) -> Option<Self> {
        OnLimit::parse(text)
    }
}

fn set_value<T: PolicyValue>(slot: &mut T, key: &str, text: &str) -> Result<()> {
    *slot = T::parse_text(text).ok_or_else(|| Error::policy(key, T::EXPECTED))?;
    Ok(())
}

/// `None` when `value` deserializes as the key's type, else the rule it breaks. `_probe` only
/// carries the type.
fn json_value_rule<T: PolicyValue>(_probe: &T, value: &serde_json::Value) -> Option<&'static str> {
    serde_json::from_value::<T>(value.clone()).err().map(|_| T::EXPECTED)
}

/// The one table of dotted keys. Everything key-based (`KEYS`, `get`, `set`, `entries`, `diff`,
/// JSON error location) is generated from it, so a new field cannot be reachable by one path and
/// missing from another.
macro_rules! policy_keys {
    ($($section:ident . $field:ident : $label:literal, $help:literal;)*) => {
        /// Every dotted policy key, in display order (section by section, field by field).
        pub const KEYS: &[&str] = &[$(concat!(stringify!($section), ".", stringify!($field))),*];

        /// What an editor needs to know about every key, in [`KEYS`] order.
        pub fn fields() -> Vec<FieldInfo> {
            let probe = Policy::default();
            vec![$(field_info(
                &probe.$section.$field,
                concat!(stringify!($section), ".", stringify!($field)),
                $label,
                $help,
            )),*]
        }

        impl Policy {
            /// The display form of one key's value; `None` for an unknown key.
            pub fn get(&self, key: &str) -> Option<String> {
                match key {
                    $(concat!(stringify!($section), ".", stringify!($field)) => Some(self.$section.$field.render()),)*
                    _ => None,
                }
            }

            /// Every key with its display form, in [`KEYS`] order.
            pub fn entries(&self) -> Vec<(&'static str, String)> {
                vec![$((concat!(stringify!($section), ".", stringify!($field)), self.$section.$field.render())),*]
            }

            /// Sets one key from user text. Checks only that the text parses for the key's type;
            /// cross-field rules are the caller's [`Policy::validate`] after all changes.
            pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
                match key {
                    $(concat!(stringify!($section), ".", stringify!($field)) => set_value(&mut self.$section.$field, key, value),)*
                    _ => Err(Error::policy(key, format!("unknown policy key; known keys: {}", KEYS.join(", ")))),
                }
            }

            /// Why a JSON value does not fit a key; `Some("unknown policy key")` for an unknown key.
            fn json_rule(key: &str, value: &serde_json::Value) -> Option<&'static str> {
                let probe = Policy::default();
                match key {
                    $(concat!(stringify!($section), ".", stringify!($field)) => json_value_rule(&probe.$section.$field, value),)*
                    _ => Some("unknown policy key"),
                }
            }
        }
    };
}

policy_keys! {
    session.ttl: "Lifetime after a refresh",
        "How long a session stays valid after its last refresh (sliding expiry).";
    session.refresh_after: "Refresh after",
        "A request later than this after the last refresh extends the session by the lifetime.";
    session.idle_timeout: "Idle timeout",
        "A session unused for longer than this ends.";
    session.max_lifetime: "Maximum lifetime",
        "Absolute cap from sign-in; no refresh extends a session past it.";
    session.max_concurrent: "Sessions per user",
        "How many live sessions one user may hold at once.";
    session.on_limit: "At the limit",
        "What a sign-in beyond the limit does: end the oldest session, or be refused.";
    privileged.ttl: "Lifetime after a refresh",
        "The same sliding lifetime for support and security admin sessions; at most the ordinary one.";
    privileged.refresh_after: "Refresh after",
        "When an admin session is extended; at most the ordinary value.";
    privileged.idle_timeout: "Idle timeout",
        "An admin session unused for longer than this ends; at most the ordinary value.";
    privileged.max_lifetime: "Maximum lifetime",
        "Absolute cap of an admin session; at most the ordinary value.";
    privileged.max_concurrent: "Sessions per admin",
        "Live sessions one support or security admin may hold; at most the ordinary value.";
    privileged.on_limit: "At the limit",
        "What an admin sign-in beyond the limit does.";
    privileged.reauth_after: "Re-authenticate after",
        "Sensitive actions (policy, bulk termination) need a sign-in no older than this.";
    lockout.threshold: "Failures before a lock",
        "Failed sign-ins within the window that lock the account.";
    lockout.window: "Failure window",
        "Failures older than this, counted from the first one, are forgotten.";
    lockout.duration: "First lock",
        "How long the first lock lasts.";
    lockout.backoff: "Backoff factor",
        "Each further lock lasts this many times the previous one (1.0 to 10.0).";
    lockout.reset_after: "Backoff resets after",
        "A lock this long after the previous one starts the backoff over.";
    lockout.max_duration: "Longest lock",
        "Cap on a single lock's length, whatever the backoff.";
    lockout.permanent_after: "Permanent after",
        "The n-th lock in a row lasts until an admin unlocks the account; 0 = never.";
    password.min_length: "Minimum length",
        "Fewest characters a new password may have (at least 8).";
    password.max_length: "Maximum length",
        "Most characters a new password may have (at most 1024).";
    password.require_lowercase: "Require a lowercase letter",
        "New passwords must contain a lowercase letter.";
    password.require_uppercase: "Require an uppercase letter",
        "New passwords must contain an uppercase letter.";
    password.require_digit: "Require a digit",
        "New passwords must contain a digit.";
    password.require_symbol: "Require a symbol",
        "New passwords must contain a character that is not a letter or digit.";
    password.reject_common: "Reject common passwords",
        "Refuse passwords found in the bundled list of common passwords.";
    password.reject_personal: "Reject the email and name",
        "Refuse passwords that contain the user's email address, its part before the @, or a word of their name (of 4 characters or more).";
    password.argon2_memory_kib: "Hash memory (KiB)",
        "Argon2id memory cost per hash, in KiB (8192 to 1048576).";
    password.argon2_iterations: "Hash iterations",
        "Argon2id passes over the memory (1 to 10).";
    password.argon2_parallelism: "Hash parallelism",
        "Argon2id lanes (1 to 16).";
    email_verification.token_ttl: "Link lifetime",
        "How long an email verification link stays valid (at most 30d).";
    email_verification.required_for_sign_in: "Required to sign in",
        "Refuse sign-in until the email address is verified.";
    detection.new_country: "New country",
        "Flag a sign-in from a country none of the user's sessions of the last 90 days came from.";
    detection.impossible_travel: "Impossible travel",
        "Flag a sign-in from one country while a session in another was active within the travel window.";
    detection.travel_window: "Travel window",
        "How recent activity elsewhere must be for a sign-in to count as impossible travel (at most 7d).";
    detection.rapid_sign_ins: "Rapid sign-ins",
        "Flag the sign-in that makes this many within the rapid window; 0 = never (at most 1000).";
    detection.rapid_window: "Rapid window",
        "The span rapid sign-ins are counted over (at most 1d).";
    detection.failures_before_success: "Failures before a success",
        "Flag a sign-in that succeeds after this many failures since the previous one, within a day; 0 = never.";
    detection.step_up: "Step-up after a flag",
        "A session whose sign-in was flagged must re-authenticate before it ends other sessions or changes two-factor, while the flag is open.";
}

/// The longest any policy duration may be.
const MAX_ANY_DURATION: Duration = Duration::from_days(365);
/// The longest an email verification token may live.
const MAX_TOKEN_TTL: Duration = Duration::from_days(30);
const MAX_CONCURRENT: u32 = 1_000;

/// Collects violations in the order checked (which follows [`KEYS`]).
#[derive(Default)]
struct Violations(Vec<(String, String)>);

impl Violations {
    fn push(&mut self, field: &str, rule: impl Into<String>) {
        self.0.push((field.to_owned(), rule.into()));
    }

    /// Every duration must be positive and at most a year.
    fn duration(&mut self, field: &str, value: Duration) {
        if value == Duration::ZERO {
            self.push(field, "must be longer than 0s");
        }
        if value > MAX_ANY_DURATION {
            self.push(field, format!("must be at most {MAX_ANY_DURATION}"));
        }
    }

    fn at_most<T: PartialOrd + fmt::Display>(&mut self, field: &str, value: T, bound_key: &str, bound: T) {
        if value > bound {
            self.push(field, format!("must be at most {bound_key} ({bound})"));
        }
    }

    fn between(&mut self, field: &str, value: u32, low: u32, high: u32) {
        if !(low..=high).contains(&value) {
            self.push(field, format!("must be between {low} and {high}"));
        }
    }

    /// The rules shared by ordinary and privileged sessions; `ordinary` is `Some` for the
    /// privileged section, whose every limit must also be at most the ordinary one.
    fn session_limits(&mut self, section: &str, limits: &SessionLimits, ordinary: Option<&SessionLimits>) {
        let key = |field: &str| format!("{section}.{field}");
        let ttl_key = key("ttl");
        let max_lifetime_key = key("max_lifetime");

        self.duration(&ttl_key, limits.ttl);
        self.at_most(&ttl_key, limits.ttl, &max_lifetime_key, limits.max_lifetime);
        if let Some(o) = ordinary {
            self.at_most(&ttl_key, limits.ttl, "session.ttl", o.ttl);
        }

        let refresh_key = key("refresh_after");
        self.duration(&refresh_key, limits.refresh_after);
        self.at_most(&refresh_key, limits.refresh_after, &ttl_key, limits.ttl);
        if let Some(o) = ordinary {
            self.at_most(
                &refresh_key,
                limits.refresh_after,
                "session.refresh_after",
                o.refresh_after,
            );
        }

        let idle_key = key("idle_timeout");
        self.duration(&idle_key, limits.idle_timeout);
        self.at_most(&idle_key, limits.idle_timeout, &ttl_key, limits.ttl);
        if let Some(o) = ordinary {
            self.at_most(&idle_key, limits.idle_timeout, "session.idle_timeout", o.idle_timeout);
        }

        self.duration(&max_lifetime_key, limits.max_lifetime);
        if let Some(o) = ordinary {
            self.at_most(
                &max_lifetime_key,
                limits.max_lifetime,
                "session.max_lifetime",
                o.max_lifetime,
            );
        }

        let concurrent_key = key("max_concurrent");
        self.between(&concurrent_key, limits.max_concurrent, 1, MAX_CONCURRENT);
        if let Some(o) = ordinary {
            self.at_most(
                &concurrent_key,
                limits.max_concurrent,
                "session.max_concurrent",
                o.max_concurrent,
            );
        }
    }
}

impl Policy {
    /// The limits for an ordinary (`privileged == false`) or privileged session.
    pub fn session_limits(&self, privileged: bool) -> SessionLimits {
        if privileged {
            let p = &self.privileged;
            SessionLimits {
                ttl: p.ttl,
                refresh_after: p.refresh_after,
                idle_timeout: p.idle_timeout,
                max_lifetime: p.max_lifetime,
                max_concurrent: p.max_concurrent,
                on_limit: p.on_limit,
            }
        } else {
            let s = &self.session;
            SessionLimits {
                ttl: s.ttl,
                refresh_after: s.refresh_after,
                idle_timeout: s.idle_timeout,
                max_lifetime: s.max_lifetime,
                max_concurrent: s.max_concurrent,
                on_limit: s.on_limit,
            }
        }
    }

    /// Every rule this policy breaks, as `(dotted key, rule in plain words)`, in key order. Empty
    /// means valid.
    pub fn violations(&self) -> Vec<(String, String)> {
        let mut v = Violations::default();

        let ordinary = self.session_limits(false);
        v.session_limits("session", &ordinary, None);
        let privileged = self.session_limits(true);
        v.session_limits("privileged", &privileged, Some(&ordinary));
        v.duration("privileged.reauth_after", self.privileged.reauth_after);
        v.at_most(
            "privileged.reauth_after",
            self.privileged.reauth_after,
            "privileged.max_lifetime",
            self.privileged.max_lifetime,
        );

        let l = &self.lockout;
        v.between("lockout.threshold", l.threshold, 1, 100);
        v.duration("lockout.window", l.window);
        v.duration("lockout.duration", l.duration);
        v.at_most("lockout.duration", l.duration, "lockout.max_duration", l.max_duration);
        // Written this way so NaN fails too.
        if !(l.backoff.is_finite() && (1.0..=10.0).contains(&l.backoff)) {
            v.push("lockout.backoff", "must be a number between 1.0 and 10.0");
        }
        v.duration("lockout.reset_after", l.reset_after);
        v.duration("lockout.max_duration", l.max_duration);
        if l.permanent_after > 100 {
            v.push("lockout.permanent_after", "must be between 0 (never) and 100");
        }

        let p = &self.password;
        if p.min_length < 8 {
            v.push("password.min_length", "must be at least 8");
        }
        v.at_most("password.min_length", p.min_length, "password.max_length", p.max_length);
        if p.max_length > 1024 {
            v.push("password.max_length", "must be at most 1024");
        }
        v.between("password.argon2_memory_kib", p.argon2_memory_kib, 8_192, 1_048_576);
        v.between("password.argon2_iterations", p.argon2_iterations, 1, 10);
        v.between("password.argon2_parallelism", p.argon2_parallelism, 1, 16);

        let e = &self.email_verification;
        v.duration("email_verification.token_ttl", e.token_ttl);
        if e.token_ttl > MAX_TOKEN_TTL {
            v.push(
                "email_verification.token_ttl",
                format!("must be at most {MAX_TOKEN_TTL}"),
            );
        }

        let d = &self.detection;
        v.duration("detection.travel_window", d.travel_window);
        if d.travel_window > Duration::from_days(7) {
            v.push("detection.travel_window", "must be at most 7d");
        }
        v.duration("detection.rapid_window", d.rapid_window);
        if d.rapid_window > Duration::from_days(1) {
            v.push("detection.rapid_window", "must be at most 1d");
        }
        if d.rapid_sign_ins == 1 || d.rapid_sign_ins > 1_000 {
            v.push("detection.rapid_sign_ins", "must be 0 (never) or between 2 and 1000");
        }
        if d.failures_before_success > 1_000 {
            v.push(
                "detection.failures_before_success",
                "must be between 0 (never) and 1000",
            );
        }

        v.0
    }

    /// `Ok` when valid, else the first violation as [`Error::PolicyInvalid`].
    pub fn validate(&self) -> Result<()> {
        match self.violations().into_iter().next() {
            None => Ok(()),
            Some((field, rule)) => Err(Error::policy(field, rule)),
        }
    }

    /// A copy with every `(key, value)` assignment applied in order, returned only if the result
    /// is valid. `self` is never modified.
    pub fn apply(&self, assignments: &[(String, String)]) -> Result<Policy> {
        let mut next = self.clone();
        for (key, value) in assignments {
            next.set(key, value)?;
        }
        next.validate()?;
        Ok(next)
    }

    /// Like [`Policy::apply`], but reports *every* error instead of the first, for inline validation:
    /// unparsable values and unknown keys first (in the order given), then the cross-field and range
    /// rules of the result, leaving out rules on keys that already have a parse error.
    pub fn check(&self, assignments: &[(String, String)]) -> Checked {
        let mut policy = self.clone();
        let mut violations = Vec::new();
        for (key, value) in assignments {
            if let Err(Error::PolicyInvalid { field, rule }) = policy.set(key, value) {
                violations.push(Violation { field, rule });
            }
        }
        let unparsed: Vec<String> = violations.iter().map(|v| v.field.clone()).collect();
        violations.extend(
            policy
                .violations()
                .into_iter()
                .filter(|(field, _)| !unparsed.contains(field))
                .map(|(field, rule)| Violation { field, rule }),
        );
        Checked { policy, violations }
    }

    /// The keys whose display form differs, in [`KEYS`] order.
    pub fn diff(&self, newer: &Policy) -> Vec<PolicyChange> {
        self.entries()
            .into_iter()
            .zip(newer.entries())
            .filter(|((_, from), (_, to))| from != to)
            .map(|((key, from), (_, to))| PolicyChange {
                key: key.to_owned(),
                from,
                to,
            })
            .collect()
    }

    /// Reads a policy from JSON. Missing keys take defaults. Does not validate cross-field rules
    /// (call [`Policy::validate`]). Errors name the dotted key when it can be located, else `policy`.
    pub fn from_json(value: &serde_json::Value) -> Result<Policy> {
        serde_json::from_value::<Policy>(value.clone()).map_err(|e| locate_json_error(value, &e.to_string()))
    }

    /// The stored JSON form (durations as strings such as `"7d"`).
    pub fn to_json(&self) -> serde_json::Value {
        // Invariant: every field is a string, number or bool and every map key a string, which
        // serde_json always serializes; a non-finite backoff becomes `null`, not an error.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Finds which key of `value` made serde fail, by checking each section and key on its own.
fn locate_json_error(value: &serde_json::Value, serde_message: &str) -> Error {
    let Some(sections) = value.as_object() else {
        return Error::policy("policy", "must be a JSON object");
    };
    for (section, body) in sections {
        let known = KEYS
            .iter()
            .any(|k| k.split_once('.').is_some_and(|(s, _)| s == section));
        if !known {
            return Error::policy(section.as_str(), "unknown policy section");
        }
        let Some(fields) = body.as_object() else {
            return Error::policy(section.as_str(), "must be a JSON object");
        };
        for (field, field_value) in fields {
            let key = format!("{section}.{field}");
            if let Some(rule) = Policy::json_rule(&key, field_value) {
                return Error::policy(key, rule);
            }
        }
    }
    Error::policy("policy", serde_message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(text: &str) -> Duration {
        Duration::parse(text).unwrap_or_else(|| panic!("test duration {text} parses"))
    }

    /// The fields that break a rule after setting `key = value` on the defaults.
    fn violated_fields(assignments: &[(&str, &str)]) -> Vec<String> {
        let mut p = Policy::default();
        for (key, value) in assignments {
            p.set(key, value).expect("test assignment parses");
        }
        p.violations().into_iter().map(|(field, _)| field).collect()
    }

    fn assert_violates(assignments: &[(&str, &str)], field: &str) {
        let fields = violated_fields(assignments);
        assert!(
            fields.iter().any(|f| f == field),
            "{assignments:?} should violate {field}, got {fields:?}"
        );
    }

    fn policy_error(result: Result<impl fmt::Debug>) -> (String, String) {
        match result {
            Err(Error::PolicyInvalid { field, rule }) => (field, rule),
            other => panic!("expected PolicyInvalid, got {other:?}"),
        }
    }

    // ---- Duration ----

    #[test]
    fn duration_parses_each_unit() {
        assert_eq!(Duration::parse("45s"), Some(Duration::from_secs(45)));
        assert_eq!(Duration::parse("30m"), Some(Duration::from_secs(1_800)));
        assert_eq!(Duration::parse("12h"), Some(Duration::from_secs(43_200)));
        assert_eq!(Duration::parse("7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(Duration::parse("2w"), Some(Duration::from_secs(1_209_600)));
    }

    #[test]
    fn duration_parses_combinations_and_bare_seconds() {
        assert_eq!(Duration::parse("1h30m"), Some(Duration::from_secs(5_400)));
        assert_eq!(
            Duration::parse("1w2d3h4m5s"),
            Some(Duration::from_secs(604_800 + 172_800 + 10_800 + 240 + 5))
        );
        assert_eq!(Duration::parse("90"), Some(Duration::from_secs(90)));
        assert_eq!(Duration::parse("0"), Some(Duration::ZERO));
        assert_eq!(Duration::parse(" 15m "), Some(Duration::from_mins(15)));
    }

    #[test]
    fn duration_rejects_malformed_text() {
        for bad in [
            "",
            " ",
            "m",
            "1.5h",
            "-5m",
            "5 m",
            "5x",
            "30m1h",
            "1h1h",
            "5M",
            "1h30",
            "h1",
            "99999999999999999999w",
        ] {
            assert_eq!(Duration::parse(bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn duration_displays_largest_exact_form() {
        assert_eq!(Duration::from_secs(5_400).to_string(), "1h30m");
        assert_eq!(Duration::from_secs(86_400).to_string(), "1d");
        assert_eq!(Duration::ZERO.to_string(), "0s");
        assert_eq!(Duration::from_secs(45).to_string(), "45s");
        assert_eq!(Duration::from_days(7).to_string(), "7d");
        assert_eq!(Duration::from_days(30).to_string(), "30d");
        assert_eq!(Duration::from_secs(90_061).to_string(), "1d1h1m1s");
        assert_eq!(d("2w").to_string(), "14d");
    }

    #[test]
    fn duration_display_round_trips_through_parse() {
        for text in [
            "45s", "30m", "12h", "7d", "2w", "1h30m", "90", "0", "1d12h", "365d", "59m59s",
        ] {
            let parsed = d(text);
            assert_eq!(Duration::parse(&parsed.to_string()), Some(parsed), "{text}");
        }
    }

    #[test]
    fn duration_converts_to_millis() {
        assert_eq!(d("1m").as_millis(), 60_000);
        assert_eq!(Duration::from_secs(u64::MAX).as_millis(), Millis::MAX);
    }

    #[test]
    fn duration_orders_by_length() {
        assert!(d("59m") < d("1h"));
        assert_eq!(d("60m"), d("1h"));
    }

    #[test]
    fn duration_serializes_as_display_string() {
        assert_eq!(serde_json::to_value(d("1h30m")).expect("serializes"), json!("1h30m"));
        assert_eq!(
            serde_json::from_value::<Duration>(json!("2w")).expect("parses"),
            d("14d")
        );
    }

    #[test]
    fn duration_deserialize_error_names_the_rule() {
        let err = serde_json::from_value::<Duration>(json!("soon")).expect_err("rejects");
        assert!(err.to_string().contains(DURATION_RULE), "{err}");
        assert!(serde_json::from_value::<Duration>(json!(60)).is_err());
    }

    // ---- defaults and views ----

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Policy::default().violations(), Vec::<(String, String)>::new());
        assert!(Policy::default().validate().is_ok());
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let p = Policy::default();
        let expected = [
            ("session.ttl", "7d"),
            ("session.refresh_after", "1d"),
            ("session.idle_timeout", "3d"),
            ("session.max_lifetime", "30d"),
            ("session.max_concurrent", "10"),
            ("session.on_limit", "evict_oldest"),
            ("privileged.ttl", "8h"),
            ("privileged.refresh_after", "15m"),
            ("privileged.idle_timeout", "30m"),
            ("privileged.max_lifetime", "12h"),
            ("privileged.max_concurrent", "3"),
            ("privileged.on_limit", "evict_oldest"),
            ("privileged.reauth_after", "15m"),
            ("lockout.threshold", "5"),
            ("lockout.window", "15m"),
            ("lockout.duration", "15m"),
            ("lockout.backoff", "2.0"),
            ("lockout.reset_after", "1d"),
            ("lockout.max_duration", "1d"),
            ("lockout.permanent_after", "0"),
            ("password.min_length", "12"),
            ("password.max_length", "128"),
            ("password.require_lowercase", "false"),
            ("password.require_uppercase", "false"),
            ("password.require_digit", "false"),
            ("password.require_symbol", "false"),
            ("password.reject_common", "true"),
            ("password.reject_personal", "true"),
            ("password.argon2_memory_kib", "19456"),
            ("password.argon2_iterations", "2"),
            ("password.argon2_parallelism", "1"),
            ("email_verification.token_ttl", "1d"),
            ("email_verification.required_for_sign_in", "false"),
            ("detection.new_country", "true"),
            ("detection.impossible_travel", "true"),
            ("detection.travel_window", "2h"),
            ("detection.rapid_sign_ins", "10"),
            ("detection.rapid_window", "10m"),
            ("detection.failures_before_success", "10"),
            ("detection.step_up", "true"),
        ];
        let entries: Vec<(&str, String)> = p.entries();
        let expected: Vec<(&str, String)> = expected.iter().map(|(k, v)| (*k, v.to_string())).collect();
        assert_eq!(entries, expected);
    }

    #[test]
    fn session_limits_pick_the_ordinary_or_privileged_section() {
        let p = Policy::default();
        let ordinary = p.session_limits(false);
        assert_eq!(ordinary.ttl, d("7d"));
        assert_eq!(ordinary.max_concurrent, 10);
        let privileged = p.session_limits(true);
        assert_eq!(privileged.ttl, d("8h"));
        assert_eq!(privileged.refresh_after, d("15m"));
        assert_eq!(privileged.idle_timeout, d("30m"));
        assert_eq!(privileged.max_lifetime, d("12h"));
        assert_eq!(privileged.max_concurrent, 3);
        assert_eq!(privileged.on_limit, OnLimit::EvictOldest);
    }

    // ---- each validation rule names its field ----

    #[test]
    fn every_duration_must_be_positive() {
        let duration_keys = [
            "session.ttl",
            "session.refresh_after",
            "session.idle_timeout",
            "session.max_lifetime",
            "privileged.ttl",
            "privileged.refresh_after",
            "privileged.idle_timeout",
            "privileged.max_lifetime",
            "privileged.reauth_after",
            "lockout.window",
            "lockout.duration",
            "lockout.reset_after",
            "lockout.max_duration",
            "email_verification.token_ttl",
        ];
        for key in duration_keys {
            let mut p = Policy::default();
            p.set(key, "0s").expect("zero parses");
            assert!(
                p.violations()
                    .iter()
                    .any(|(f, r)| f == key && r == "must be longer than 0s"),
                "{key} = 0s should be rejected: {:?}",
                p.violations()
            );
        }
    }

    #[test]
    fn every_duration_is_capped_at_a_year() {
        let p = Policy::default();
        let mut long = p.clone();
        long.lockout.window = d("366d");
        long.lockout.reset_after = d("366d");
        assert_eq!(
            long.violations(),
            vec![
                ("lockout.window".to_string(), "must be at most 365d".to_string()),
                ("lockout.reset_after".to_string(), "must be at most 365d".to_string()),
            ]
        );
        let mut year = p;
        year.lockout.window = d("365d");
        assert!(year.validate().is_ok());
    }

    #[test]
    fn refresh_after_must_not_exceed_ttl() {
        assert_violates(&[("session.refresh_after", "8d")], "session.refresh_after");
        assert_violates(&[("privileged.refresh_after", "9h")], "privileged.refresh_after");
        assert!(violated_fields(&[("session.refresh_after", "7d")]).is_empty());
    }

    #[test]
    fn idle_timeout_must_not_exceed_ttl_with_a_readable_rule() {
        let mut p = Policy::default();
        p.set("session.idle_timeout", "8d").expect("parses");
        assert_eq!(
            p.violations(),
            vec![(
                "session.idle_timeout".to_string(),
                "must be at most session.ttl (7d)".to_string()
            )]
        );
        assert_violates(&[("privileged.idle_timeout", "9h")], "privileged.idle_timeout");
    }

    #[test]
    fn ttl_must_not_exceed_max_lifetime() {
        assert_violates(&[("session.ttl", "31d")], "session.ttl");
        assert_violates(&[("privileged.max_lifetime", "7h")], "privileged.ttl");
    }

    #[test]
    fn privileged_limits_must_not_exceed_ordinary_ones() {
        let tight = [
            ("session.ttl", "1h"),
            ("session.refresh_after", "5m"),
            ("session.idle_timeout", "10m"),
            ("session.max_lifetime", "2h"),
            ("session.max_concurrent", "2"),
        ];
        let fields = violated_fields(&tight);
        for key in [
            "privileged.ttl",
            "privileged.refresh_after",
            "privileged.idle_timeout",
            "privileged.max_lifetime",
            "privileged.max_concurrent",
        ] {
            assert!(fields.iter().any(|f| f == key), "{key} missing from {fields:?}");
        }
        let mut p = Policy::default();
        p.set("privileged.max_concurrent", "11").expect("parses");
        assert_eq!(
            p.violations(),
            vec![(
                "privileged.max_concurrent".to_string(),
                "must be at most session.max_concurrent (10)".to_string()
            )]
        );
    }

    #[test]
    fn reauth_after_must_not_exceed_privileged_max_lifetime() {
        assert_violates(&[("privileged.reauth_after", "13h")], "privileged.reauth_after");
        assert!(violated_fields(&[("privileged.reauth_after", "12h")]).is_empty());
    }

    #[test]
    fn max_concurrent_must_be_between_1_and_1000() {
        assert_violates(&[("session.max_concurrent", "0")], "session.max_concurrent");
        assert_violates(&[("session.max_concurrent", "1001")], "session.max_concurrent");
        assert_violates(&[("privileged.max_concurrent", "0")], "privileged.max_concurrent");
        assert!(violated_fields(&[("session.max_concurrent", "1000")]).is_empty());
    }

    #[test]
    fn lockout_threshold_must_be_between_1_and_100() {
        assert_violates(&[("lockout.threshold", "0")], "lockout.threshold");
        assert_violates(&[("lockout.threshold", "101")], "lockout.threshold");
        assert!(violated_fields(&[("lockout.threshold", "100")]).is_empty());
    }

    #[test]
    fn lockout_duration_must_not_exceed_max_duration() {
        assert_violates(&[("lockout.duration", "25h")], "lockout.duration");
        assert!(violated_fields(&[("lockout.duration", "24h")]).is_empty());
    }

    #[test]
    fn lockout_backoff_must_be_finite_between_1_and_10() {
        assert_violates(&[("lockout.backoff", "0.5")], "lockout.backoff");
        assert_violates(&[("lockout.backoff", "10.5")], "lockout.backoff");
        let mut p = Policy::default();
        p.lockout.backoff = f64::NAN;
        assert_eq!(p.violations()[0].0, "lockout.backoff");
        p.lockout.backoff = f64::INFINITY;
        assert_eq!(p.violations()[0].0, "lockout.backoff");
        assert!(violated_fields(&[("lockout.backoff", "1")]).is_empty());
        assert!(violated_fields(&[("lockout.backoff", "10")]).is_empty());
    }

    #[test]
    fn lockout_permanent_after_must_be_at_most_100() {
        assert_violates(&[("lockout.permanent_after", "101")], "lockout.permanent_after");
        assert!(violated_fields(&[("lockout.permanent_after", "100")]).is_empty());
    }

    #[test]
    fn password_lengths_are_bounded() {
        assert_violates(&[("password.min_length", "7")], "password.min_length");
        assert!(violated_fields(&[("password.min_length", "8")]).is_empty());
        assert_violates(&[("password.min_length", "129")], "password.min_length");
        assert_violates(&[("password.max_length", "1025")], "password.max_length");
        assert!(violated_fields(&[("password.max_length", "1024")]).is_empty());
    }

    #[test]
    fn argon2_parameters_are_bounded() {
        assert_violates(&[("password.argon2_memory_kib", "8191")], "password.argon2_memory_kib");
        assert_violates(
            &[("password.argon2_memory_kib", "1048577")],
            "password.argon2_memory_kib",
        );
        assert_violates(&[("password.argon2_iterations", "0")], "password.argon2_iterations");
        assert_violates(&[("password.argon2_iterations", "11")], "password.argon2_iterations");
        assert_violates(&[("password.argon2_parallelism", "0")], "password.argon2_parallelism");
        assert_violates(&[("password.argon2_parallelism", "17")], "password.argon2_parallelism");
        assert!(violated_fields(&[
            ("password.argon2_memory_kib", "8192"),
            ("password.argon2_iterations", "10"),
            ("password.argon2_parallelism", "16"),
        ])
        .is_empty());
    }

    #[test]
    fn token_ttl_is_capped_at_30_days() {
        assert_violates(
            &[("email_verification.token_ttl", "31d")],
            "email_verification.token_ttl",
        );
        assert!(violated_fields(&[("email_verification.token_ttl", "30d")]).is_empty());
    }

    #[test]
    fn violations_lists_all_and_validate_reports_the_first() {
        let mut p = Policy::default();
        p.lockout.threshold = 0;
        p.password.argon2_iterations = 0;
        let fields: Vec<String> = p.violations().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["lockout.threshold", "password.argon2_iterations"]);
        let (field, rule) = policy_error(p.validate());
        assert_eq!(field, "lockout.threshold");
        assert_eq!(rule, "must be between 1 and 100");
    }

    // ---- keys, get, set ----

    #[test]
    fn keys_cover_every_field_once() {
        assert_eq!(KEYS.len(), 40);
        let mut sorted = KEYS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), KEYS.len());
        // Every key's JSON path exists in the serialized policy, and vice versa.
        let json = Policy::default().to_json();
        let mut json_keys = Vec::new();
        for (section, body) in json.as_object().expect("object") {
            for field in body.as_object().expect("section object").keys() {
                json_keys.push(format!("{section}.{field}"));
            }
        }
        json_keys.sort_unstable();
        assert_eq!(json_keys, sorted);
    }

    #[test]
    fn get_then_set_round_trips_every_key() {
        let p = Policy::default();
        for key in KEYS {
            let value = p.get(key).expect("known key");
            let mut q = p.clone();
            q.set(key, &value).expect("own display form parses");
            assert_eq!(q, p, "{key}");
        }
    }

    #[test]
    fn get_unknown_key_is_none() {
        assert_eq!(Policy::default().get("session.nope"), None);
        assert_eq!(Policy::default().get("session"), None);
    }

    #[test]
    fn set_changes_one_key() {
        let mut p = Policy::default();
        p.set("session.ttl", "12h").expect("valid");
        p.set("session.on_limit", "reject").expect("valid");
        p.set("password.require_digit", "true").expect("valid");
        p.set("lockout.backoff", "1.5").expect("valid");
        p.set("lockout.threshold", "7").expect("valid");
        assert_eq!(p.session.ttl, d("12h"));
        assert_eq!(p.session.on_limit, OnLimit::Reject);
        assert!(p.password.require_digit);
        assert_eq!(p.lockout.backoff, 1.5);
        assert_eq!(p.lockout.threshold, 7);
        assert_eq!(p.get("lockout.backoff").as_deref(), Some("1.5"));
    }

    #[test]
    fn set_unknown_key_lists_known_keys() {
        let (field, rule) = policy_error(Policy::default().set("session.tll", "1h"));
        assert_eq!(field, "session.tll");
        assert!(
            rule.starts_with("unknown policy key; known keys: session.ttl, "),
            "{rule}"
        );
        assert!(rule.ends_with("detection.step_up"), "{rule}");
    }

    #[test]
    fn set_unparsable_value_names_the_expected_form() {
        let cases = [
            ("session.ttl", "soon", "must be a duration such as 30m, 12h or 7d"),
            ("session.max_concurrent", "-1", "must be a whole number"),
            ("lockout.threshold", "five", "must be a whole number"),
            ("password.require_symbol", "yes", "must be true or false"),
            ("session.on_limit", "drop", "must be evict_oldest or reject"),
            ("lockout.backoff", "NaN", "must be a number such as 2.0"),
        ];
        for (key, value, expected) in cases {
            let mut p = Policy::default();
            let (field, rule) = policy_error(p.set(key, value));
            assert_eq!((field.as_str(), rule.as_str()), (key, expected));
            assert_eq!(p, Policy::default(), "a failed set leaves the policy unchanged");
        }
    }

    #[test]
    fn set_does_not_check_cross_field_rules() {
        let mut p = Policy::default();
        p.set("session.idle_timeout", "8d").expect("set only parses");
        assert!(p.validate().is_err());
    }

    // ---- apply and diff ----

    #[test]
    fn apply_validates_after_all_assignments() {
        let p = Policy::default();
        // Raising idle_timeout above the old ttl is fine when ttl is raised in the same edit.
        let next = p
            .apply(&[
                ("session.idle_timeout".into(), "10d".into()),
                ("session.ttl".into(), "14d".into()),
            ])
            .expect("valid as a whole");
        assert_eq!(next.session.idle_timeout, d("10d"));
        assert_eq!(next.session.ttl, d("2w"));
        assert_eq!(p, Policy::default(), "apply does not modify the original");
    }

    #[test]
    fn apply_rejects_an_invalid_result() {
        let (field, _) = policy_error(Policy::default().apply(&[("session.idle_timeout".into(), "10d".into())]));
        assert_eq!(field, "session.idle_timeout");
        let (field, rule) = policy_error(Policy::default().apply(&[("lockout.window".into(), "x".into())]));
        assert_eq!((field.as_str(), rule.as_str()), ("lockout.window", DURATION_RULE));
    }

    #[test]
    fn diff_lists_changed_keys_in_key_order() {
        let old = Policy::default();
        let new = old
            .apply(&[
                ("lockout.threshold".into(), "3".into()),
                ("session.ttl".into(), "14d".into()),
            ])
            .expect("valid");
        assert_eq!(
            old.diff(&new),
            vec![
                PolicyChange {
                    key: "session.ttl".into(),
                    from: "7d".into(),
                    to: "14d".into()
                },
                PolicyChange {
                    key: "lockout.threshold".into(),
                    from: "5".into(),
                    to: "3".into()
                },
            ]
        );
        assert!(old.diff(&old).is_empty());
    }

    // ---- JSON ----

    #[test]
    fn json_round_trips_and_uses_duration_strings() {
        let mut p = Policy::default();
        p.session.ttl = d("1h30m");
        p.lockout.backoff = 1.5;
        let json = p.to_json();
        assert_eq!(json["session"]["ttl"], json!("1h30m"));
        assert_eq!(json["session"]["on_limit"], json!("evict_oldest"));
        assert_eq!(Policy::from_json(&json).expect("round trips"), p);
    }

    #[test]
    fn json_missing_keys_take_defaults() {
        let p = Policy::from_json(&json!({ "session": { "ttl": "1d" } })).expect("partial is fine");
        assert_eq!(p.session.ttl, d("1d"));
        assert_eq!(p.session.max_concurrent, 10);
        assert_eq!(p.lockout, LockoutPolicy::default());
        assert_eq!(Policy::from_json(&json!({})).expect("empty is fine"), Policy::default());
    }

    #[test]
    fn json_errors_name_the_field() {
        let cases = [
            (json!({ "session": { "ttl": "soon" } }), "session.ttl", DURATION_RULE),
            (
                json!({ "session": { "tll": "1d" } }),
                "session.tll",
                "unknown policy key",
            ),
            (
                json!({ "lockout": { "threshold": "five" } }),
                "lockout.threshold",
                "must be a whole number",
            ),
            (
                json!({ "privileged": { "on_limit": "drop" } }),
                "privileged.on_limit",
                "must be evict_oldest or reject",
            ),
            (json!({ "sessions": {} }), "sessions", "unknown policy section"),
            (json!({ "password": 3 }), "password", "must be a JSON object"),
            (json!([1, 2]), "policy", "must be a JSON object"),
        ];
        for (value, field, rule) in cases {
            let (got_field, got_rule) = policy_error(Policy::from_json(&value));
            assert_eq!((got_field.as_str(), got_rule.as_str()), (field, rule), "{value}");
        }
    }

    #[test]
    fn on_limit_serializes_snake_case() {
        assert_eq!(
            serde_json::to_value(OnLimit::EvictOldest).expect("ser"),
            json!("evict_oldest")
        );
        assert_eq!(serde_json::to_value(OnLimit::Reject).expect("ser"), json!("reject"));
        assert_eq!(OnLimit::parse("reject"), Some(OnLimit::Reject));
        assert_eq!(OnLimit::parse("Reject"), None);
    }

    // ---- field metadata and whole-edit checks ----

    #[test]
    fn fields_describe_every_key_in_key_order() {
        let fields = fields();
        let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, KEYS.to_vec());
        for f in &fields {
            assert!(
                !f.label.is_empty() && !f.help.is_empty(),
                "{} needs a label and help",
                f.key
            );
            assert!(!f.help.contains('\n'), "{}: help is one line", f.key);
            assert_eq!(f.choices.is_empty(), f.kind != FieldKind::Choice, "{}", f.key);
        }
        let by_key = |k: &str| fields.iter().find(|f| f.key == k).expect("known key").clone();
        assert_eq!(by_key("session.ttl").kind, FieldKind::Duration);
        assert_eq!(by_key("session.ttl").group, FieldGroup::Sessions);
        assert_eq!(by_key("privileged.reauth_after").group, FieldGroup::PrivilegedSessions);
        assert_eq!(by_key("lockout.threshold").kind, FieldKind::Integer);
        assert_eq!(by_key("lockout.backoff").kind, FieldKind::Number);
        assert_eq!(by_key("password.reject_common").kind, FieldKind::Boolean);
        assert_eq!(by_key("password.min_length").group, FieldGroup::Passwords);
        assert_eq!(
            by_key("email_verification.token_ttl").group,
            FieldGroup::EmailVerification
        );
        assert_eq!(by_key("detection.travel_window").group, FieldGroup::Detection);
        let on_limit = by_key("privileged.on_limit");
        assert_eq!(on_limit.kind, FieldKind::Choice);
        assert_eq!(on_limit.choices, vec!["evict_oldest", "reject"]);
        for choice in &on_limit.choices {
            assert!(Policy::default()
                .apply(&[(on_limit.key.clone(), choice.clone())])
                .is_ok());
        }
    }

    #[test]
    fn check_reports_every_error_of_an_edit() {
        let checked = Policy::default().check(&[
            ("session.ttl".into(), "soon".into()),
            ("session.idle_timeout".into(), "8d".into()),
            ("lockout.threshold".into(), "0".into()),
        ]);
        assert_eq!(
            checked.violations,
            vec![
                Violation {
                    field: "session.ttl".into(),
                    rule: DURATION_RULE.into()
                },
                Violation {
                    field: "session.idle_timeout".into(),
                    rule: "must be at most session.ttl (7d)".into()
                },
                Violation {
                    field: "lockout.threshold".into(),
                    rule: "must be between 1 and 100".into()
                },
            ]
        );
        assert_eq!(
            checked.policy.session.ttl,
            d("7d"),
            "an unparsable value keeps the old one"
        );
        assert_eq!(checked.policy.session.idle_timeout, d("8d"));
        let ok = Policy::default().check(&[("session.ttl".into(), "14d".into())]);
        assert!(ok.violations.is_empty());
        assert_eq!(
            ok.policy,
            Policy::default()
                .apply(&[("session.ttl".into(), "14d".into())])
                .unwrap()
        );
    }

    #[test]
    fn check_leaves_out_rules_on_a_key_that_did_not_parse() {
        let mut p = Policy::default();
        p.session.idle_timeout = d("8d");
        let checked = p.check(&[("session.idle_timeout".into(), "x".into())]);
        assert_eq!(checked.violations.len(), 1, "{:?}", checked.violations);
        assert_eq!(checked.violations[0].rule, DURATION_RULE);
    }
}
