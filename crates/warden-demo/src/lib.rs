//! The demo data set: a realistic auth database for trying the console and for benchmarks.
//!
//! Users of all three roles (some with TOTP, some unverified, some locked, one permanently locked),
//! 90 days of sessions across devices, browsers, places and auth methods, in every state a session can
//! end in, with their timeline events; login attempts with the failure bursts that caused the locks; two
//! policy versions; and a hash-chained audit log of it all, in time order. Deterministic for a seed and a
//! reference time (password hash salts aside). Rows go in with multi-row inserts in large transactions.

pub mod better_auth;

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use warden_core::model::audit::{AuditEvent, GENESIS_HASH};
use warden_core::model::authz::Role;
use warden_core::model::clock::{Millis, DAY, HOUR, MINUTE, SECOND};
use warden_core::model::error::{Error, Result};
use warden_core::model::policy::{Duration, Policy};
use warden_core::model::secret::Secret;
use warden_core::model::session::ip_key;
use warden_core::model::user::{search_terms, Email, NewUser};
use warden_core::rules::totp::{self, DataKey};
use warden_core::rules::{password, useragent};
use warden_core::store::bulk_load::{analyze, v_b, v_bytes, v_i, v_oi, v_opt_uuid, v_os, v_s, v_uuid, Batch};
use warden_core::store::{audit, flags, policy_versions, users, Db, SchemaState};

pub const ADMIN_EMAIL: &str = "admin@warden.demo";
pub const SUPPORT_EMAIL: &str = "support@warden.demo";
/// Every non-demo-admin user shares this password (and one hash): hashing a million passwords with
/// argon2id would take hours and prove nothing.
pub const USER_PASSWORD: &str = "demo-user-password-2026";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub users: u32,
    pub seed: u64,
    /// The reference time the 90 days lead up to.
    pub now: Millis,
}

/// What the demo generator made. It holds the demo credentials in clear on purpose: they are printed to
/// the operator who asked for a demo database.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub admin_email: String,
    pub admin_password: String,
    /// Base32; the admin signs in with password + TOTP.
    pub admin_totp_secret: String,
    pub support_email: String,
    pub support_password: String,
    pub user_password: String,
    /// The deployment's data key for this database (WARDEN_DATA_KEY), base64.
    pub data_key: String,
    pub users: u64,
    pub sessions: u64,
    pub active_sessions: u64,
    pub session_events: u64,
    pub login_attempts: u64,
    pub audit_events: u64,
    pub locked_users: u64,
    pub elapsed_ms: u128,
}

const FIRST: &[&str] = &[
    "ana", "ben", "chloe", "david", "elena", "farid", "grace", "hugo", "ines", "jonas", "kaito", "lena", "marco",
    "nadia", "omar", "priya", "quentin", "rosa", "sven", "tara", "umar", "vera", "wei", "ximena", "yusuf", "zoe",
    "amara", "bruno", "carmen", "dmitri", "emma", "felix", "giulia", "hana", "ivan", "julia", "kofi", "lucia", "mateo",
    "noor",
];
const LAST: &[&str] = &[
    "silva", "meyer", "okafor", "tanaka", "rossi", "nguyen", "kowalski", "haddad", "larsen", "garcia", "smith",
    "dubois", "novak", "ibrahim", "chen", "petrov", "costa", "fischer", "kaur", "moreau", "jensen", "popescu",
    "yilmaz", "santos",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example",
    "corp.example",
    "acme.example",
    "inbox.example",
];
const PLACES: &[(&str, &str)] = &[
    ("US", "New York"),
    ("US", "San Francisco"),
    ("US", "Chicago"),
    ("DE", "Berlin"),
    ("DE", "Munich"),
    ("FR", "Paris"),
    ("GB", "London"),
    ("NL", "Amsterdam"),
    ("ES", "Madrid"),
    ("IT", "Milan"),
    ("PL", "Warsaw"),
    ("SE", "Stockholm"),
    ("JP", "Tokyo"),
    ("IN", "Bengaluru"),
    ("BR", "São Paulo"),
    ("CA", "Toronto"),
    ("AU", "Sydney"),
    ("NG", "Lagos"),
    ("SG", "Singapore"),
    ("MX", "Mexico City"),
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];
const CLIENTS: &[&str] = &["web", "web", "web", "ios-app", "android-app"];

/// The application of a session on `os` for a draw `k` of `0..CLIENTS.len()`: the iOS app only on iOS,
/// the Android app only on Android, the web app everywhere (one draw, as before, so a seed's other data
/// stays the same).
fn client_on(os: Option<&str>, k: usize) -> &'static str {
    let os = os.unwrap_or("");
    match CLIENTS[k] {
        "ios-app" if os.starts_with("iOS") || os.starts_with("iPadOS") => "ios-app",
        "android-app" if os.starts_with("Android") => "android-app",
        _ => "web",
    }
}

/// A time in `[from, to)`, or `from` when the span is empty (a user created an hour ago has no "day ago").
fn between(r: &mut StdRng, from: Millis, to: Millis) -> Millis {
    if to > from {
        r.gen_range(from..to)
    } else {
        from
    }
}

fn uuid_at(rng: &mut StdRng, ms: Millis) -> Uuid {
    let bytes: [u8; 10] = rng.gen();
    uuid::Builder::from_unix_timestamp_millis(ms.max(0) as u64, &bytes).into_uuid()
}

/// One thing the audit log will tell, gathered while generating and written in time order at the end.
struct Happening {
    at: Millis,
    /// Index into the list of (id, email) of generated users.
    user: u32,
    session: Option<Uuid>,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Created(Role),
    SignedIn(u8),
    SignInFailed,
    /// A burst of failures locked the account from this address: until then, or for good.
    Locked {
        permanent: bool,
        until: Option<Millis>,
        ip: std::net::Ipv4Addr,
    },
    OwnerRevoked,
    AdminRevoked,
    Evicted,
    Unlocked,
    TotpEnabled,
    /// Index into the demo's flags.
    Flagged(usize),
    FlagClosed(usize),
}

/// A flag the demo raised, for its audit events.
struct DemoFlag {
    id: Uuid,
    rule: &'static str,
    severity: &'static str,
    detail: String,
    status: &'static str,
}

const USER_COLS: &[&str] = &[
    "id",
    "email",
    "name",
    "name_lower",
    "role",
    "email_verified_at",
    "password_hash",
    "totp_secret",
    "totp_enabled_at",
    "totp_last_step",
    "disabled_at",
    "created_at",
    "updated_at",
    "last_active_at",
    "failed_count",
    "window_started_at",
    "locked_until",
    "locked_permanently",
    "lock_count",
    "last_locked_at",
    "last_failed_at",
    "last_failed_ip",
];
const SESSION_COLS: &[&str] = &[
    "id",
    "user_id",
    "token_hash",
    "created_at",
    "last_seen_at",
    "refreshed_at",
    "expires_at",
    "authenticated_at",
    "ip",
    "user_agent",
    "device",
    "browser",
    "browser_version",
    "os",
    "country",
    "city",
    "auth_method",
    "client",
    "privileged",
    "revoked_at",
    "revoked_by",
    "revoke_reason",
    "ip_key",
];
const EVENT_COLS: &[&str] = &["session_id", "user_id", "at", "kind", "ip", "detail"];
const ATTEMPT_COLS: &[&str] = &["at", "user_id", "email", "ip", "user_agent", "outcome"];
const AUDIT_COLS: &[&str] = &[
    "seq",
    "at",
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

/// Fills an empty Warden database (migrating it first if it has no schema). Refuses a database that
/// already has users, so a demo never mixes with real data.
pub async fn generate(db: &Db, opts: &DemoOptions, mut progress: impl FnMut(&str)) -> Result<DemoReport> {
    if opts.users < 2 {
        return Err(Error::invalid(
            "users",
            "must be at least 2 (the demo admin and the demo support user)",
        ));
    }
    if opts.users > 5_000_000 {
        return Err(Error::invalid("users", "must be at most 5000000"));
    }
    let started = Instant::now();
    if db.schema_state().await? != SchemaState::Current {
        db.migrate().await?;
    }
    let existing: i64 = users::count(db).await?;
    if existing > 0 {
        return Err(Error::invalid(
            "db",
            "already holds users: the demo fills only an empty Warden database",
        ));
    }
    let now = opts.now;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let key_bytes: [u8; 32] = rng.gen();
    let key = DataKey::parse(&base64_std(&key_bytes))?;
    warden_core::ops::auth::check_key(db, &key).await?;

    // Policy: the defaults 60 days ago, then a tightening of the lockout and idle rules 20 days ago.
    let v1 = Policy::default();
    let mut v2 = v1.clone();
    v2.lockout.threshold = 5;
    v2.lockout.permanent_after = 4;
    v2.session.idle_timeout = Duration::from_secs(2 * 24 * 3600);
    v2.validate()?;
    let admin_password = Secret::new(format!("Warden-admin-{:06}", rng.gen_range(0..1_000_000)));
    let support_password = Secret::new(format!("Warden-support-{:06}", rng.gen_range(0..1_000_000)));
    let (admin_hash, support_hash, user_hash) = {
        let (a, s, p) = (admin_password.clone(), support_password.clone(), v2.password.clone());
        tokio::task::spawn_blocking(move || -> Result<_> {
            Ok((
                password::hash_password(&a, &p)?,
                password::hash_password(&s, &p)?,
                // At the policy's cost, like every other hash: a cheaper one would make a wrong password
                // answer faster than an unknown address (whose dummy check runs at the policy's cost).
                password::hash_password(&Secret::new(USER_PASSWORD), &p)?,
            ))
        })
        .await
        .map_err(|e| Error::Unexpected(e.to_string()))??
    };
    let admin_totp: Vec<u8> = (0..20).map(|_| rng.gen()).collect();

    let mut users_b = Batch::new("users", USER_COLS);
    let mut terms_b = Batch::new("user_search_terms", &["term", "user_id"]);
    let mut sessions_b = Batch::new("sessions", SESSION_COLS);
    let mut events_b = Batch::new("session_events", EVENT_COLS);
    let mut attempts_b = Batch::new("login_attempts", ATTEMPT_COLS);
    let mut flags_b = Batch::new("flags", flags::COLUMNS);
    let mut demo_flags: Vec<DemoFlag> = Vec::new();
    let mut happenings: Vec<Happening> = Vec::new();
    let mut people: Vec<(Uuid, String)> = Vec::with_capacity(opts.users as usize);
    let mut active_sessions = 0u64;
    let mut locked_users = 0u64;
    let mut admin_ids: Vec<Uuid> = Vec::new();
    let permanently_locked = if opts.users > 3 { Some(3) } else { None };
    const CHUNK: u32 = 20_000;

    let mut tx = db.begin().await?;
    for i in 0..opts.users {
        let mut r = StdRng::seed_from_u64(opts.seed ^ (u64::from(i) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let role = match i {
            0 => Role::SecurityAdmin,
            1 => Role::Support,
            _ if r.gen_ratio(1, 1000) => Role::Support,
            _ if r.gen_ratio(1, 2000) => Role::SecurityAdmin,
            _ => Role::User,
        };
        let (first, last) = (FIRST[r.gen_range(0..FIRST.len())], LAST[r.gen_range(0..LAST.len())]);
        let (email, name, hash) = match i {
            0 => (ADMIN_EMAIL.to_owned(), "Ada Admin".to_owned(), admin_hash.clone()),
            1 => (SUPPORT_EMAIL.to_owned(), "Sam Support".to_owned(), support_hash.clone()),
            _ => (
                format!("{first}.{last}{i}@{}", DOMAINS[r.gen_range(0..DOMAINS.len())]),
                format!(
                    "{}{} {}{}",
                    &first[..1].to_uppercase(),
                    &first[1..],
                    &last[..1].to_uppercase(),
                    &last[1..]
                ),
                user_hash.clone(),
            ),
        };
        let created_at = if i < 2 {
            now - 400 * DAY
        } else {
            now - r.gen_range(HOUR..400 * DAY)
        };
        let id = uuid_at(&mut r, created_at);
        if role != Role::User {
            admin_ids.push(id);
        }
        let verified = i < 2 || r.gen_ratio(92, 100);
        let totp_on = i == 0 || (i > 1 && r.gen_ratio(30, 100));
        let totp_secret = match i {
            0 => Some(admin_totp.clone()),
            _ if totp_on => Some((0..20).map(|_| r.gen()).collect::<Vec<u8>>()),
            _ => None,
        };
        people.push((id, email.clone()));
        let sealed = totp_secret.as_ref().map(|s| totp::seal(&key, s, id.as_bytes()));
        happenings.push(Happening {
            at: created_at,
            user: i,
            session: None,
            kind: Kind::Created(role),
        });
        if totp_on {
            happenings.push(Happening {
                at: created_at + r.gen_range(MINUTE..DAY),
                user: i,
                session: None,
                kind: Kind::TotpEnabled,
            });
        }

        // Sessions over the last 90 days (never before the account existed).
        let home = PLACES[r.gen_range(0..PLACES.len())];
        let home_ip = format!(
            "{}.{}.{}.",
            r.gen_range(11..223),
            r.gen_range(0..256),
            r.gen_range(0..256)
        );
        let devices: Vec<&str> = (0..r.gen_range(1..=3))
            .map(|_| AGENTS[r.gen_range(0..AGENTS.len())])
            .collect();
        let privileged = role.is_privileged();
        let limits = v2.session_limits(privileged);
        let n_sessions = if i < 2 { 3 } else { r.gen_range(0..=10) };
        let mut last_active: Option<Millis> = None;
        // (start, last use) of the user's sessions at home so far.
        let mut home_activity: Vec<(Millis, Millis)> = Vec::new();
        let horizon = (now - 90 * DAY).max(created_at);
        for s in 0..n_sessions {
            let recent = i < 2 && s == n_sessions - 1;
            let start = if recent {
                now - r.gen_range(MINUTE..HOUR)
            } else {
                between(&mut r, horizon, now - MINUTE)
            };
            let sid = uuid_at(&mut r, start);
            let agent = devices[r.gen_range(0..devices.len())];
            let parsed = useragent::parse(Some(agent));
            let travelling = r.gen_ratio(1, 12);
            let (country, city) = if travelling {
                PLACES[r.gen_range(0..PLACES.len())]
            } else {
                home
            };
            let ip = if travelling {
                format!(
                    "{}.{}.{}.{}",
                    r.gen_range(11..223),
                    r.gen_range(0..256),
                    r.gen_range(0..256),
                    r.gen_range(1..255)
                )
            } else {
                format!("{home_ip}{}", r.gen_range(1..255))
            };
            let method = match (totp_on, r.gen_ratio(1, 25)) {
                (true, true) => "backup_code",
                (true, false) => "password+totp",
                _ => "password",
            };
            // Activity: a run of use from the start, refreshed along the way.
            let max_end = (start + limits.max_lifetime.as_millis()).min(now - MINUTE);
            let span = r.gen_range(0..=(max_end - start).max(1));
            let mut last_seen = start + span;
            let mut refreshed_at = start;
            let mut refreshes = Vec::new();
            let mut t = start;
            while t + limits.refresh_after.as_millis() < last_seen && refreshes.len() < 4 {
                t += limits.refresh_after.as_millis() + r.gen_range(0..HOUR);
                if t > last_seen {
                    break;
                }
                refreshed_at = t;
                refreshes.push(t);
            }
            let mut expires_at = (refreshed_at + limits.ttl.as_millis()).min(start + limits.max_lifetime.as_millis());
            let roll = r.gen_range(0..100);
            let (revoked_at, revoked_by, reason): (Option<Millis>, Option<String>, Option<&str>) = if recent {
                (None, None, None)
            } else if roll < 12 {
                (Some(last_seen), Some(email.clone()), Some("user_logout"))
            } else if roll < 16 {
                (
                    Some(last_seen + r.gen_range(0..=(now - MINUTE - last_seen).clamp(1, HOUR))),
                    Some(ADMIN_EMAIL.to_owned()),
                    Some("admin"),
                )
            } else if roll < 19 {
                (
                    Some(last_seen + r.gen_range(0..=(now - MINUTE - last_seen).clamp(1, DAY))),
                    None,
                    Some("evicted"),
                )
            } else {
                (None, None, None)
            };
            let revoked_at = revoked_at.map(|t| t.min(now));
            if recent {
                last_seen = now - r.gen_range(0..10 * MINUTE);
                expires_at = (refreshed_at + limits.ttl.as_millis()).min(start + limits.max_lifetime.as_millis());
            }
            // Ended by the rules: find which one would have ended it (the engine marks it when next seen).
            let (revoked_at, reason) = match (revoked_at, reason) {
                (Some(t), r) => (Some(t), r),
                (None, _) => {
                    let idle_end = last_seen + limits.idle_timeout.as_millis();
                    let abs_end = start + limits.max_lifetime.as_millis();
                    let end = idle_end.min(abs_end).min(expires_at);
                    if end <= now && !recent {
                        let why = if end == abs_end {
                            "absolute"
                        } else if end == idle_end {
                            "idle"
                        } else {
                            "expired"
                        };
                        (Some(end), Some(why))
                    } else {
                        (None, None)
                    }
                }
            };
            if revoked_at.is_none() {
                active_sessions += 1;
            }
            last_active = Some(last_active.map_or(last_seen, |a: Millis| a.max(last_seen)));
            let token_hash: Vec<u8> = (0..32).map(|_| r.gen()).collect();
            sessions_b.push(vec![
                v_uuid(sid),
                v_uuid(id),
                v_bytes(Some(token_hash)),
                v_i(start),
                v_i(last_seen),
                v_i(refreshed_at),
                v_i(expires_at),
                v_i(start),
                v_s(&ip),
                v_s(agent),
                v_s(&parsed.device),
                v_os(parsed.browser.as_deref()),
                v_os(parsed.browser_version.as_deref()),
                v_os(parsed.os.as_deref()),
                v_s(country),
                v_s(city),
                v_s(method),
                v_s(client_on(parsed.os.as_deref(), r.gen_range(0..CLIENTS.len()))),
                v_b(privileged),
                v_oi(revoked_at),
                v_os(revoked_by.as_deref()),
                v_os(reason),
                v_bytes(ip_key(Some(&ip))),
            ]);
            if !travelling {
                home_activity.push((start, last_seen));
            }
            // Half the sign-ins from away are flagged, as detection would have; those older than 30 days are
            // closed. A stream of its own, so the rest of the data stays as it was for a seed.
            let mut fr = StdRng::seed_from_u64(opts.seed ^ (sid.as_u128() as u64));
            // Impossible travel needs a second place: a session at home in use shortly before this one.
            let at_home_before = home_activity
                .iter()
                .filter(|(began, seen)| *began <= start && *seen <= start && start - *seen < 2 * HOUR)
                .map(|(_, seen)| *seen)
                .max();
            if travelling && country != home.0 && fr.gen_ratio(1, 2) {
                let (rule, severity, detail) = if let (true, Some(seen)) = (fr.gen_ratio(1, 4), at_home_before) {
                    let gap = ((start - seen) / MINUTE).max(1);
                    (
                        "impossible_travel",
                        "high",
                        format!("signed in from {country} {gap} min after activity from {}", home.0),
                    )
                } else {
                    (
                        "new_country",
                        "low",
                        format!("first sign-in from {country} in 90 days (seen before: {})", home.0),
                    )
                };
                let closed = (start < now - 30 * DAY).then(|| {
                    let at = (start + fr.gen_range(HOUR..2 * DAY)).min(now - MINUTE);
                    if fr.gen_ratio(3, 4) {
                        ("dismissed", at, SUPPORT_EMAIL)
                    } else {
                        ("actioned", at, ADMIN_EMAIL)
                    }
                });
                let flag = DemoFlag {
                    id: uuid_at(&mut fr, start),
                    rule,
                    severity,
                    detail,
                    status: closed.map_or("open", |(st, _, _)| st),
                };
                flags_b.push(vec![
                    v_uuid(flag.id),
                    v_uuid(id),
                    v_opt_uuid(Some(sid)),
                    v_s(rule),
                    v_s(severity),
                    v_s(&flag.detail),
                    v_s(flag.status),
                    v_i(start),
                    v_oi(closed.map(|(_, at, _)| at)),
                    v_os(closed.map(|(_, _, by)| by)),
                ]);
                demo_flags.push(flag);
                let n = demo_flags.len() - 1;
                happenings.push(Happening {
                    at: start,
                    user: i,
                    session: Some(sid),
                    kind: Kind::Flagged(n),
                });
                if let Some((_, at, _)) = closed {
                    happenings.push(Happening {
                        at,
                        user: i,
                        session: Some(sid),
                        kind: Kind::FlagClosed(n),
                    });
                }
            }
            events_b.push(vec![
                v_uuid(sid),
                v_uuid(id),
                v_i(start),
                v_s("created"),
                v_s(&ip),
                v_s(method),
            ]);
            for t in &refreshes {
                events_b.push(vec![
                    v_uuid(sid),
                    v_uuid(id),
                    v_i(*t),
                    v_s("refreshed"),
                    v_s(&ip),
                    v_os(None),
                ]);
            }
            if let (Some(t), Some(why)) = (revoked_at, reason) {
                let kind = if matches!(why, "idle" | "absolute" | "expired") {
                    "expired"
                } else {
                    "revoked"
                };
                events_b.push(vec![v_uuid(sid), v_uuid(id), v_i(t), v_s(kind), v_s(&ip), v_s(why)]);
                let k = match why {
                    "user_logout" => Some(Kind::OwnerRevoked),
                    "admin" => Some(Kind::AdminRevoked),
                    "evicted" => Some(Kind::Evicted),
                    _ => None,
                };
                if let Some(k) = k {
                    happenings.push(Happening {
                        at: t,
                        user: i,
                        session: Some(sid),
                        kind: k,
                    });
                }
            }
            attempts_b.push(vec![
                v_i(start),
                v_uuid(id),
                v_s(&email),
                v_s(&ip),
                v_s(agent),
                v_s("success"),
            ]);
            let m = match method {
                "password+totp" => 1,
                "backup_code" => 2,
                _ => 0,
            };
            happenings.push(Happening {
                at: start,
                user: i,
                session: Some(sid),
                kind: Kind::SignedIn(m),
            });
        }

        // Failures, and the bursts that locked some accounts. Each is an attempt row and an audit event.
        let failure = |attempts_b: &mut Batch, happenings: &mut Vec<Happening>, at: Millis, ip: &str, agent: &str| {
            attempts_b.push(vec![
                v_i(at),
                v_uuid(id),
                v_s(&email),
                v_s(ip),
                v_s(agent),
                v_s("bad_password"),
            ]);
            happenings.push(Happening {
                at,
                user: i,
                session: None,
                kind: Kind::SignInFailed,
            });
        };
        let mut failed_count = 0i64;
        let mut last_failed: Option<(Millis, String)> = None;
        for _ in 0..r.gen_range(0..3) {
            let at = between(&mut r, horizon, now);
            let ip = format!("{home_ip}{}", r.gen_range(1..255));
            failure(&mut attempts_b, &mut happenings, at, &ip, devices[0]);
            if last_failed.as_ref().is_none_or(|(t, _)| at > *t) {
                last_failed = Some((at, ip));
            }
        }
        let permanent = permanently_locked == Some(i);
        let locked_now = i > 1 && (permanent || r.gen_ratio(2, 100));
        let (mut locked_until, mut lock_count, mut last_locked_at) = (None, 0i64, None);
        if locked_now || (i > 1 && r.gen_ratio(3, 100)) {
            // A burst from one address: threshold failures in a minute, then the lock.
            let burst_at = if locked_now {
                now - r.gen_range(MINUTE..10 * MINUTE)
            } else {
                between(&mut r, horizon, now - DAY)
            };
            let ip = format!(
                "{}.{}.{}.{}",
                r.gen_range(11..223),
                r.gen_range(0..256),
                r.gen_range(0..256),
                r.gen_range(1..255)
            );
            let tries = if permanent {
                4 * v2.lockout.threshold
            } else {
                v2.lockout.threshold
            };
            for k in 0..tries {
                let at = burst_at - i64::from(tries - k) * 3_000;
                failure(&mut attempts_b, &mut happenings, at, &ip, "python-requests/2.32.3");
            }
            let lock_ip: std::net::Ipv4Addr = ip.parse().expect("a dotted IPv4 address");
            last_failed = Some((burst_at, ip));
            lock_count = if permanent {
                i64::from(v2.lockout.permanent_after)
            } else {
                1
            };
            last_locked_at = Some(burst_at);
            happenings.push(Happening {
                at: burst_at,
                user: i,
                session: None,
                kind: Kind::Locked {
                    permanent,
                    until: (!permanent).then(|| burst_at + v2.lockout.duration.as_millis()),
                    ip: lock_ip,
                },
            });
            if locked_now {
                locked_users += 1;
                if !permanent {
                    locked_until = Some(burst_at + v2.lockout.duration.as_millis());
                }
            } else {
                happenings.push(Happening {
                    at: burst_at + r.gen_range(MINUTE..HOUR),
                    user: i,
                    session: None,
                    kind: Kind::Unlocked,
                });
                lock_count = 0;
            }
        } else if r.gen_ratio(1, 10) {
            // One recent wrong password, in the open window: its attempt, its audit event, its place.
            let at = now - HOUR;
            let ip = format!("{home_ip}{}", r.gen_range(1..255));
            failure(&mut attempts_b, &mut happenings, at, &ip, devices[0]);
            last_failed = Some((at, ip));
            failed_count = 1;
        }
        users_b.push(vec![
            v_uuid(id),
            v_s(&email),
            v_s(&name),
            v_s(&name.to_lowercase()),
            v_s(role.as_str()),
            v_oi(verified.then_some(created_at + r.gen_range(MINUTE..DAY))),
            v_s(&hash),
            v_bytes(sealed),
            v_oi(totp_on.then_some(created_at + MINUTE)),
            v_oi(None),
            v_oi(None),
            v_i(created_at),
            v_i(created_at),
            v_i(last_active.unwrap_or(0)),
            v_i(failed_count),
            v_oi((failed_count > 0).then(|| now - HOUR)),
            v_oi(locked_until),
            v_b(permanent),
            v_i(lock_count),
            v_oi(last_locked_at),
            v_oi(last_failed.as_ref().map(|(t, _)| *t)),
            v_os(last_failed.as_ref().map(|(_, ip)| ip.as_str())),
        ]);
        for term in search_terms(&email, &name.to_lowercase()) {
            terms_b.push(vec![v_s(&term), v_uuid(id)]);
        }

        if (i + 1) % CHUNK == 0 || i + 1 == opts.users {
            users_b.flush(&mut tx).await?;
            terms_b.flush(&mut tx).await?;
            sessions_b.flush(&mut tx).await?;
            events_b.flush(&mut tx).await?;
            attempts_b.flush(&mut tx).await?;
            flags_b.flush(&mut tx).await?;
            tx.commit().await?;
            tx = db.begin().await?;
            progress(&format!("{} of {} users", i + 1, opts.users));
        }
    }

    // Policy versions and the audit chain, in time order.
    let v1_at = now - 60 * DAY;
    let v2_at = now - 20 * DAY;
    policy_versions::insert_version(&mut tx, 1, &v1, v1_at, ADMIN_EMAIL, "initial policy").await?;
    policy_versions::insert_version(
        &mut tx,
        2,
        &v2,
        v2_at,
        ADMIN_EMAIL,
        "tighten lockout after credential-stuffing wave",
    )
    .await?;
    happenings.sort_by_key(|h| h.at);
    let admin_id = admin_ids.first().copied();
    let mut audit_b = Batch::new("audit_events", AUDIT_COLS);
    let mut prev = GENESIS_HASH.to_owned();
    let mut seq = 0i64;
    let mut policy_pending = vec![(v1_at, 1, Policy::default().diff(&v1)), (v2_at, 2, v1.diff(&v2))];
    policy_pending.reverse();
    let emit = |ev: &mut AuditEvent, b: &mut Batch, prev: &mut String, seq: &mut i64| {
        *seq += 1;
        ev.seq = *seq;
        ev.prev_hash = prev.clone();
        ev.hash = ev.compute_hash();
        prev.clone_from(&ev.hash);
        b.push(vec![
            v_i(ev.seq),
            v_i(ev.at),
            v_opt_uuid(ev.actor_id),
            v_s(&ev.actor_kind),
            v_s(&ev.actor_label),
            v_s(&ev.action),
            v_opt_uuid(ev.target_user_id),
            v_opt_uuid(ev.target_session_id),
            v_s(&ev.status),
            v_os(ev.reason.as_deref()),
            v_os(ev.ip.as_deref()),
            v_s(&ev.metadata),
            v_s(&ev.prev_hash),
            v_s(&ev.hash),
        ]);
    };
    let blank = |at: Millis| AuditEvent {
        seq: 0,
        at,
        actor_id: None,
        actor_kind: "system".into(),
        actor_label: "warden".into(),
        action: String::new(),
        target_user_id: None,
        target_session_id: None,
        status: "success".into(),
        reason: None,
        ip: None,
        metadata: "{}".into(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    for h in &happenings {
        while policy_pending.last().is_some_and(|(at, _, _)| *at <= h.at) {
            let (at, version, changes) = policy_pending.pop().expect("checked above");
            let mut ev = blank(at);
            ev.actor_id = admin_id;
            ev.actor_kind = "user".into();
            ev.actor_label = ADMIN_EMAIL.into();
            ev.action = "policy.updated".into();
            ev.reason = Some(
                if version == 1 {
                    "initial policy"
                } else {
                    "tighten lockout after credential-stuffing wave"
                }
                .into(),
            );
            ev.metadata = json!({ "version": version, "changes": changes }).to_string();
            emit(&mut ev, &mut audit_b, &mut prev, &mut seq);
        }
        let mut ev = blank(h.at);
        let (user_id, user_email) = &people[h.user as usize];
        ev.target_user_id = Some(*user_id);
        ev.target_session_id = h.session;
        let as_user = |ev: &mut AuditEvent| {
            ev.actor_id = Some(*user_id);
            ev.actor_kind = "user".into();
            ev.actor_label.clone_from(user_email);
        };
        let as_admin = |ev: &mut AuditEvent| {
            ev.actor_id = admin_id;
            ev.actor_kind = "user".into();
            ev.actor_label = ADMIN_EMAIL.into();
        };
        match h.kind {
            Kind::Created(role) => {
                as_user(&mut ev);
                ev.action = "user.created".into();
                ev.metadata = json!({ "role": role.as_str() }).to_string();
            }
            Kind::TotpEnabled => {
                as_user(&mut ev);
                ev.action = "user.totp_enabled".into();
            }
            Kind::Flagged(n) => {
                let f = &demo_flags[n];
                ev.action = "session.flagged".into();
                ev.metadata = json!({
                    "flag_id": f.id.to_string(),
                    "rule": f.rule,
                    "severity": f.severity,
                    "detail": f.detail,
                })
                .to_string();
            }
            Kind::FlagClosed(n) => {
                let f = &demo_flags[n];
                if f.status == "actioned" {
                    as_admin(&mut ev);
                    ev.reason = Some("ended the session; the user did not recognise it".into());
                } else {
                    ev.actor_id = admin_ids.get(1).copied().or(admin_id);
                    ev.actor_kind = "user".into();
                    ev.actor_label = SUPPORT_EMAIL.into();
                    ev.reason = Some("user confirmed the trip".into());
                }
                ev.action = format!("flag.{}", f.status);
                ev.metadata =
                    json!({ "flag_id": f.id.to_string(), "rule": f.rule, "severity": f.severity }).to_string();
            }
            Kind::SignedIn(m) => {
                as_user(&mut ev);
                ev.action = "auth.signed_in".into();
                let method = ["password", "password+totp", "backup_code"][m as usize];
                ev.metadata = json!({ "auth_method": method }).to_string();
            }
            Kind::SignInFailed => {
                as_user(&mut ev);
                ev.action = "auth.sign_in_failed".into();
                ev.status = "failure".into();
                ev.metadata = json!({ "outcome": "bad_password" }).to_string();
            }
            Kind::Locked { permanent, until, ip } => {
                ev.action = "user.locked".into();
                // The same record the engine writes when a failure locks an account.
                ev.metadata = json!({
                    "until": until,
                    "permanent": permanent,
                    "lock_count": if permanent { v2.lockout.permanent_after } else { 1 },
                    "failures": v2.lockout.threshold,
                    "ip": ip.to_string(),
                })
                .to_string();
            }
            Kind::OwnerRevoked => {
                as_user(&mut ev);
                ev.action = "session.revoked".into();
                ev.metadata = json!({ "by": "owner" }).to_string();
            }
            Kind::AdminRevoked => {
                as_admin(&mut ev);
                ev.action = "session.revoked".into();
                ev.reason = Some("session reported as lost device".into());
            }
            Kind::Evicted => {
                ev.action = "session.evicted".into();
                ev.metadata = json!({ "max_concurrent": v2.session.max_concurrent }).to_string();
            }
            Kind::Unlocked => {
                ev.actor_id = admin_ids.get(1).copied().or(admin_id);
                ev.actor_kind = "user".into();
                ev.actor_label = SUPPORT_EMAIL.into();
                ev.action = "user.unlocked".into();
                ev.reason = Some("caller verified by phone".into());
            }
        }
        emit(&mut ev, &mut audit_b, &mut prev, &mut seq);
        if audit_b.pending() >= 50_000 {
            audit_b.flush(&mut tx).await?;
        }
    }
    for (at, version, changes) in policy_pending.into_iter().rev() {
        let mut ev = blank(at);
        ev.actor_label = ADMIN_EMAIL.into();
        ev.action = "policy.updated".into();
        ev.metadata = json!({ "version": version, "changes": changes }).to_string();
        emit(&mut ev, &mut audit_b, &mut prev, &mut seq);
    }
    audit_b.flush(&mut tx).await?;
    audit::set_head(&mut tx, seq, &prev).await?;
    tx.commit().await?;
    analyze(db).await?;
    progress("done");
    Ok(DemoReport {
        admin_email: ADMIN_EMAIL.into(),
        admin_password: admin_password.expose().to_owned(),
        admin_totp_secret: totp::secret_to_base32(&admin_totp),
        support_email: SUPPORT_EMAIL.into(),
        support_password: support_password.expose().to_owned(),
        user_password: USER_PASSWORD.to_owned(),
        data_key: key.to_base64().expose().to_owned(),
        users: users_b.written,
        sessions: sessions_b.written,
        active_sessions,
        session_events: events_b.written,
        login_attempts: attempts_b.written,
        audit_events: audit_b.written,
        locked_users,
        elapsed_ms: started.elapsed().as_millis(),
    })
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Adds one ordinary user with `sessions` sessions spread over the 90 days before `now` — a heavy account
/// for measuring the timeline (`warden bench`): bars of every ending, refreshes and IP changes on them,
/// and failed sign-ins between. Returns the existing user unchanged when `email` is taken, so repeated
/// benchmarks reuse it. Deterministic for a seed and `now`.
pub async fn busy_user(db: &Db, email: &str, sessions: u32, now: Millis, seed: u64) -> Result<Uuid> {
    let email = Email::parse(email)?;
    if let Some(u) = users::by_email(db, &email).await? {
        return Ok(u.id);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (_, policy) = policy_versions::current(db).await?;
    let pp = policy.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash_password(&Secret::new(USER_PASSWORD), &pp))
        .await
        .map_err(|e| Error::Unexpected(e.to_string()))??;
    let limits = policy.session_limits(false);
    let mut tx = db.begin().await?;
    let id = users::insert(
        &mut tx,
        now - 400 * DAY,
        NewUser {
            email: &email,
            name: "Busy Bench",
            role: Role::User,
            password_hash: &hash,
            email_verified_at: Some(now - 400 * DAY),
        },
    )
    .await?;
    let mut sessions_b = Batch::new("sessions", SESSION_COLS);
    let mut events_b = Batch::new("session_events", EVENT_COLS);
    let mut attempts_b = Batch::new("login_attempts", ATTEMPT_COLS);
    for _ in 0..sessions {
        let start = between(&mut rng, now - 90 * DAY, now - MINUTE);
        let sid = uuid_at(&mut rng, start);
        let agent = AGENTS[rng.gen_range(0..AGENTS.len())];
        let parsed = useragent::parse(Some(agent));
        let (country, city) = PLACES[rng.gen_range(0..PLACES.len())];
        let mut ip = format!("203.0.{}.{}", rng.gen_range(0..256), rng.gen_range(1..255));
        let first_ip = ip.clone();
        let last_seen = start + rng.gen_range(0..=(limits.max_lifetime.as_millis() / 4).min(now - start));
        let mut refreshed_at = start;
        let mut t = start + limits.refresh_after.as_millis();
        while t < last_seen {
            refreshed_at = t;
            events_b.push(vec![
                v_uuid(sid),
                v_uuid(id),
                v_i(t),
                v_s("refreshed"),
                v_s(&ip),
                v_os(None),
            ]);
            if rng.gen_ratio(1, 4) {
                let from = std::mem::replace(
                    &mut ip,
                    format!("198.18.{}.{}", rng.gen_range(0..256), rng.gen_range(1..255)),
                );
                events_b.push(vec![
                    v_uuid(sid),
                    v_uuid(id),
                    v_i(t),
                    v_s("ip_changed"),
                    v_s(&ip),
                    v_s(&format!("from {from}")),
                ]);
            }
            t += limits.refresh_after.as_millis() + rng.gen_range(0..HOUR);
        }
        let expires_at = (refreshed_at + limits.ttl.as_millis()).min(start + limits.max_lifetime.as_millis());
        let (revoked_at, reason) = match rng.gen_range(0..100) {
            0..=39 => (Some(last_seen), Some("user_logout")),
            40..=44 => (Some(last_seen + rng.gen_range(0..HOUR)), Some("admin")),
            45..=54 => (Some(last_seen + rng.gen_range(0..DAY)), Some("evicted")),
            _ => (None, None),
        };
        let revoked_at = revoked_at.filter(|t| *t <= now);
        let reason = revoked_at.and(reason);
        sessions_b.push(vec![
            v_uuid(sid),
            v_uuid(id),
            v_bytes(Some((0..32).map(|_| rng.gen()).collect())),
            v_i(start),
            v_i(last_seen),
            v_i(refreshed_at),
            v_i(expires_at),
            v_i(start),
            v_s(&ip),
            v_s(agent),
            v_s(&parsed.device),
            v_os(parsed.browser.as_deref()),
            v_os(parsed.browser_version.as_deref()),
            v_os(parsed.os.as_deref()),
            v_s(country),
            v_s(city),
            v_s("password"),
            v_s(client_on(parsed.os.as_deref(), rng.gen_range(0..CLIENTS.len()))),
            v_b(false),
            v_oi(revoked_at),
            v_os(match reason {
                Some("user_logout") => Some(email.as_str()),
                Some("admin") => Some(ADMIN_EMAIL),
                _ => None,
            }),
            v_os(reason),
            v_bytes(ip_key(Some(&ip))),
        ]);
        events_b.push(vec![
            v_uuid(sid),
            v_uuid(id),
            v_i(start),
            v_s("created"),
            v_s(&first_ip),
            v_s("password"),
        ]);
        if let (Some(at), Some(why)) = (revoked_at, reason) {
            events_b.push(vec![
                v_uuid(sid),
                v_uuid(id),
                v_i(at),
                v_s("revoked"),
                v_s(&ip),
                v_s(why),
            ]);
        }
        attempts_b.push(vec![
            v_i(start),
            v_uuid(id),
            v_s(email.as_str()),
            v_s(&first_ip),
            v_s(agent),
            v_s("success"),
        ]);
        if rng.gen_ratio(1, 10) {
            let at = start - rng.gen_range(SECOND..MINUTE);
            attempts_b.push(vec![
                v_i(at),
                v_uuid(id),
                v_s(email.as_str()),
                v_s(&first_ip),
                v_s(agent),
                v_s("bad_password"),
            ]);
        }
    }
    sessions_b.flush(&mut tx).await?;
    events_b.flush(&mut tx).await?;
    attempts_b.flush(&mut tx).await?;
    tx.commit().await?;
    Ok(id)
}
