//! `warden`: the command line of the Warden auth engine. Every command is a thin door onto warden-core:
//! parse arguments, call one core function, print a table (or JSON with `--json`). Errors print their
//! stable code and message and exit non-zero.

/// `println!` for this binary, defined before its modules so that it is the one they use. When stdout's
/// reader has gone (`warden … | head`), it ends the process at once with status 141, as a shell reports
/// a tool ended by SIGPIPE, instead of panicking as the standard `println!` does. The signal itself stays
/// ignored, so a closed database socket is still an error the command reports (and a long-running
/// `warden enforce` still exits non-zero, which its unit restarts).
macro_rules! println {
    () => {
        $crate::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::print_line(format_args!($($arg)*))
    };
}

mod adopted;
mod bench;
mod output;

/// What [`println!`] does: one line to stdout.
fn print_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        panic!("failed printing to stdout: {e}");
    }
}

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use uuid::Uuid;
use warden_core::model::clock::format_ms;
use warden_core::model::input::parse_time;
use warden_core::model::session_filter::{SessionFilter, SessionState};
use warden_core::model::vocab::{AuditAction, AuditActionGroup, AuthMethod};
use warden_core::ops::admin::{self, SessionQuery, SessionSort, UserQuery, UserSort};
use warden_core::ops::audit::{self, AuditFilter};
use warden_core::ops::audit_query::{self, AuditFilterInput};
use warden_core::ops::bulk::{self, BulkRequest, BulkTarget};
use warden_core::ops::export::{self, ExportFormat};
use warden_core::ops::flags;
use warden_core::ops::library::{self, Found};
use warden_core::ops::policy as policy_store;
use warden_core::{Clock, Db, Error, Result, Role, SystemClock};
use warden_demo as demo;

use output::{ago, opt, Table};

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "Warden: sessions, lockout, policy and audit of an application's auth database"
)]
struct Cli {
    /// Database URL: sqlite://path/to/warden.db or postgres://user@host/db
    #[arg(long, global = true, env = "WARDEN_DB", hide_env_values = true)]
    db: Option<String>,
    /// Print JSON instead of tables (for scripts)
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Create or upgrade the Warden schema (a SQLite file is created if missing)
    Migrate,
    /// Say what a database holds, writing nothing: Warden's schema, or Better Auth's or Auth.js's with
    /// its tables, counts, what it carries and what to know before ending sessions in it
    Inspect {
        /// Look only for this library's schema: better-auth or authjs
        #[arg(long, value_name = "LIBRARY")]
        schema: Option<String>,
        /// Tables detection cannot tell, by role: user=app_users,session=app_sessions (roles: user, session,
        /// account, verification, two_factor)
        #[arg(long, value_name = "ROLE=TABLE,…")]
        tables: Option<String>,
    },
    /// Put Warden's own tables beside a Better Auth or Auth.js database (PostgreSQL: in a `warden` schema),
    /// changing none of the library's tables, so that every other command works on it. Again on an
    /// adopted database it only brings Warden's tables up to date
    Adopt {
        /// Adopt only this library's schema: better-auth or authjs
        #[arg(long, value_name = "LIBRARY")]
        schema: Option<String>,
        /// Tables detection cannot tell, by role: user=app_users,session=app_sessions
        #[arg(long, value_name = "ROLE=TABLE,…")]
        tables: Option<String>,
        /// Also create the console's first security admin with this email (in Warden's own tables; the
        /// password is read from WARDEN_PASSWORD)
        #[arg(long)]
        admin_email: Option<String>,
        /// The security admin's name
        #[arg(long, requires = "admin_email")]
        admin_name: Option<String>,
        #[arg(long, env = "WARDEN_PASSWORD", hide_env_values = true, hide = true)]
        password: Option<String>,
    },
    /// Fill an empty database with a realistic demo data set and print the demo credentials
    Demo {
        /// How many users (sessions, attempts and audit events scale with it)
        #[arg(long, default_value_t = 500)]
        users: u32,
        /// Seed: the same seed and --at give the same data
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Reference time the 90 days of history lead up to (RFC 3339); default now
        #[arg(long)]
        at: Option<String>,
        /// Make the data set in a library's shape instead, and adopt it: better-auth (its own tables,
        /// filled on an empty PostgreSQL database; for the benchmarks of an adopted database)
        #[arg(long, value_name = "LIBRARY")]
        schema: Option<String>,
        /// With --schema: sessions per user (begun over the past 30 days, each lasting 7)
        #[arg(long, default_value_t = 5, requires = "schema")]
        sessions_per_user: u32,
        /// With --schema: live sessions of busy@example.test
        #[arg(long, default_value_t = 1_000, requires = "schema")]
        busy_sessions: u32,
    },
    /// Print a new random data key for WARDEN_DATA_KEY
    Keygen,
    /// Browse users
    #[command(subcommand)]
    Users(UsersCmd),
    /// Browse and end sessions
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Clear a user's lockout
    Unlock {
        /// Email or id
        user: String,
        #[arg(long)]
        reason: String,
    },
    /// Show, change and list versions of the policy
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Read and verify the audit log
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Review suspicious-activity flags raised at sign-in
    #[command(subcommand)]
    Flags(FlagsCmd),
    /// The emails the server could not deliver yet (kept and tried again), or gave up on this week
    Mail {
        /// Only this user's (email or id)
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Measure session validation and the admin pages on this database (see docs/PERFORMANCE.md)
    Bench(bench::BenchArgs),
    /// On an adopted Better Auth database: apply the policy's session lifetime caps (session.max_lifetime;
    /// privileged.max_lifetime for the application's admins) to the library's sessions in place — end
    /// those past them, bring forward expiries beyond them — each batch audited. Once, or with --every as a
    /// long-running sweeper (the package's warden-enforce unit)
    Enforce {
        /// Sweep again after this long (30s, 1m, 1h) until stopped; without it, sweep once
        #[arg(long)]
        every: Option<String>,
        /// Sessions per transaction, 1 to 5000
        #[arg(long, default_value_t = 1_000)]
        batch_size: u32,
    },
}

#[derive(Subcommand)]
enum UsersCmd {
    /// List users, newest first (keyset-paged: pass --after the cursor printed at the end)
    List {
        /// Prefix of the email, the name or a word of the name
        #[arg(long)]
        search: Option<String>,
        /// Only locked accounts
        #[arg(long)]
        locked: bool,
        /// Only accounts with an open suspicious-activity flag
        #[arg(long)]
        flagged: bool,
        /// Only this role
        #[arg(long, value_parser = role_values())]
        role: Option<String>,
        /// Sort by: created or last-active
        #[arg(long, default_value = "created")]
        sort: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        after: Option<String>,
    },
    /// Show one user with lockout state, sessions and recent audit events
    Show {
        /// Email or id
        user: String,
    },
    /// Create a user (the password is read from WARDEN_PASSWORD)
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "user", value_parser = role_values())]
        role: String,
        #[arg(long, env = "WARDEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Mark the email as verified
        #[arg(long)]
        verified: bool,
    },
    /// Ban a user (Better Auth's admin plugin): sign-in is refused and every session ends
    Ban {
        /// Email or id
        user: String,
        #[arg(long)]
        reason: String,
        /// Lift the ban after this span (7d, 12h) or at this RFC 3339 time [default: never]
        #[arg(long)]
        until: Option<String>,
    },
    /// Lift a ban
    Unban {
        /// Email or id
        user: String,
        #[arg(long)]
        reason: String,
    },
    /// Turn a user's two-factor off (they sign in with the password alone until they enrol again)
    ResetTwoFactor {
        /// Email or id
        user: String,
        #[arg(long)]
        reason: String,
    },
}

/// The values `--auth-method` takes: the engine's own vocabulary, so `--help` lists them as the engine
/// records them.
fn auth_method_values() -> clap::builder::PossibleValuesParser {
    AuthMethod::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>().into()
}

/// The values `--action` takes: the engine's action groups, then its actions.
fn action_values() -> clap::builder::PossibleValuesParser {
    let groups = AuditActionGroup::ALL.iter().map(|g| g.as_str());
    groups
        .chain(AuditAction::ALL.iter().map(|a| a.as_str()))
        .collect::<Vec<_>>()
        .into()
}

/// The values `--role` takes, from the engine's roles.
fn role_values() -> clap::builder::PossibleValuesParser {
    Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().into()
}

/// Which sessions: the filters of the console's sessions screen.
#[derive(Args, Clone, Default)]
struct SessionFilterArgs {
    /// Email or id of one user
    #[arg(long)]
    user: Option<String>,
    /// One IP address, or a CIDR range of either family such as 203.0.113.0/24 or 2001:db8::/32
    #[arg(long)]
    ip: Option<String>,
    /// Two-letter country code
    #[arg(long)]
    country: Option<String>,
    /// desktop, mobile, tablet, bot or unknown
    #[arg(long)]
    device: Option<String>,
    /// Browser name, any case (Chrome, Firefox, Safari, …)
    #[arg(long)]
    browser: Option<String>,
    /// Operating system, any case (Windows 10, Android, iOS, …)
    #[arg(long)]
    os: Option<String>,
    /// How it was signed in to
    #[arg(long, value_parser = auth_method_values())]
    auth_method: Option<String>,
    /// The door or application that created it (web, console, cli, …)
    #[arg(long)]
    client: Option<String>,
    /// Created at or after (RFC 3339 time or a date)
    #[arg(long)]
    created_from: Option<String>,
    /// Created before (RFC 3339 time or a date)
    #[arg(long)]
    created_to: Option<String>,
    /// Not seen for longer than this (30m, 12h, 7d)
    #[arg(long)]
    idle_for: Option<String>,
    /// Only admin (privileged) sessions
    #[arg(long)]
    privileged: bool,
}

impl SessionFilterArgs {
    fn filter(&self, status: &str) -> Result<SessionFilter> {
        let time = |field: &str, v: &Option<String>| -> Result<Option<i64>> {
            v.as_deref().map(|t| parse_time(field, t)).transpose()
        };
        Ok(SessionFilter {
            user: self.user.clone(),
            ip: self.ip.clone(),
            country: self.country.clone(),
            device: self.device.clone(),
            browser: self.browser.clone(),
            os: self.os.clone(),
            auth_method: self.auth_method.clone(),
            client: self.client.clone(),
            created_from: time("created_from", &self.created_from)?,
            created_to: time("created_to", &self.created_to)?,
            idle_for: self.idle_for.clone(),
            status: SessionState::parse(status)?,
            privileged_only: self.privileged,
        })
    }
}

#[derive(Subcommand)]
enum SessionsCmd {
    /// List sessions across users, newest first (filters as on the console's sessions screen)
    List {
        #[command(flatten)]
        filter: SessionFilterArgs,
        /// active (would validate now), ended or all
        #[arg(long, default_value = "active")]
        status: String,
        /// Sort by created or last-active
        #[arg(long, default_value = "created")]
        sort: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        after: Option<String>,
    },
    /// Count the sessions, and their users, matching the filters
    Count {
        #[command(flatten)]
        filter: SessionFilterArgs,
        /// active, ended or all
        #[arg(long, default_value = "active")]
        status: String,
    },
    /// End one session
    Revoke {
        id: String,
        #[arg(long)]
        reason: String,
        /// On a Better Auth database: keep the session's row with its expiry set to now, as Better Auth's
        /// `preserveSessionInDatabase` does, instead of deleting it
        #[arg(long)]
        keep_row: bool,
    },
    /// End every live session of a user
    RevokeUser {
        /// Email or id
        user: String,
        #[arg(long)]
        reason: String,
        /// On a Better Auth database: keep the rows with their expiry set to now instead of deleting them
        #[arg(long)]
        keep_row: bool,
    },
    /// End many live sessions: those matching the filters, the given ids, or with --everyone all of them.
    /// Prints the dry run and stops unless --yes is given.
    BulkRevoke {
        #[command(flatten)]
        filter: SessionFilterArgs,
        /// Session ids (instead of filters), comma-separated
        #[arg(long, value_delimiter = ',')]
        ids: Vec<String>,
        /// Emergency: end every live session of every user
        #[arg(long, conflicts_with = "ids")]
        everyone: bool,
        /// Why (required; goes to the audit log)
        #[arg(long)]
        reason: String,
        /// Carry it out (without it only the dry run is printed)
        #[arg(long)]
        yes: bool,
        /// Sessions per transaction, 1 to 5000 [default: adapts, so each batch takes about a quarter of a
        /// second and a long run shows its progress]
        #[arg(long)]
        batch_size: Option<u32>,
    },
    /// The recent bulk terminations: finished, still running, or interrupted half-way (and what each
    /// did and did not do)
    BulkStatus {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// Show the policy in force
    Show,
    /// Change policy values: warden policy set session.ttl=12h lockout.threshold=3 --note "why"
    Set {
        /// key=value pairs (see `warden policy show` for the keys)
        #[arg(required = true)]
        assignments: Vec<String>,
        /// Why the policy changes (required; kept with the version and in the audit log)
        #[arg(long)]
        note: String,
        /// Also move the expiry of live sessions earlier to the new caps (never later)
        #[arg(long)]
        shorten_sessions: bool,
    },
    /// Check a change without saving it: every broken rule, the diff, and how many live sessions the new
    /// caps would end and how many accounts would be locked under the new lockout rules
    Preview {
        /// key=value pairs, as for `warden policy set`
        #[arg(required = true)]
        assignments: Vec<String>,
    },
    /// List every policy version with author, time, note and changes
    History,
    /// Save an earlier version's policy again, as a new version: warden policy rollback 3 --note "why"
    Rollback {
        /// The version to return to (see `warden policy history`)
        version: i64,
        /// Why (required; kept with the version and in the audit log)
        #[arg(long)]
        note: String,
        /// Also move the expiry of live sessions earlier to the restored caps (never later)
        #[arg(long)]
        shorten_sessions: bool,
    },
}

#[derive(Subcommand)]
enum FlagsCmd {
    /// List flags, newest first (pass --after the cursor printed at the end for the next page)
    List {
        /// open, dismissed, actioned or all
        #[arg(long, default_value = "open")]
        status: String,
        /// Only this user's flags (email or id)
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        after: Option<String>,
    },
    /// Close an open flag: --dismissed (nothing wrong) or --actioned (something was done)
    Resolve {
        /// The flag's id
        id: String,
        #[arg(long, conflicts_with = "actioned", required_unless_present = "actioned")]
        dismissed: bool,
        #[arg(long)]
        actioned: bool,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// List events, newest first (pass --before the cursor printed at the end for the next page)
    List(Box<AuditListArgs>),
    /// Walk the hash chain and report the first broken link, if any (the check is audited)
    Verify,
    /// Write the events matching the filters, oldest first, to a file as CSV or JSON (the export is audited)
    Export(Box<AuditExportArgs>),
}

#[derive(Args)]
struct AuditExportArgs {
    #[command(flatten)]
    filter: AuditFilterArgs,
    /// csv or json
    #[arg(long, default_value = "csv")]
    format: String,
    /// The file to write (replaced if it exists); `-` for standard output
    #[arg(long)]
    out: String,
}

#[derive(Args)]
struct AuditListArgs {
    #[command(flatten)]
    filter: AuditFilterArgs,
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[arg(long)]
    before: Option<i64>,
}

#[derive(Args)]
struct AuditFilterArgs {
    /// Actor id or a part of the actor's label (email, user@host)
    #[arg(long)]
    actor: Option<String>,
    /// Target user (email or id)
    #[arg(long)]
    user: Option<String>,
    /// An action, or a group of actions (ending in a dot)
    #[arg(long, value_parser = action_values())]
    action: Option<String>,
    /// success or failure
    #[arg(long)]
    status: Option<String>,
    /// The IP address the actor acted from
    #[arg(long)]
    ip: Option<String>,
    /// From this time (RFC 3339 or YYYY-MM-DD)
    #[arg(long)]
    from: Option<String>,
    /// Until this time (exclusive)
    #[arg(long)]
    to: Option<String>,
    /// Text in the reason
    #[arg(long)]
    reason: Option<String>,
}

impl AuditFilterArgs {
    /// The flags, checked by the same core rules as the console's filters (errors name the flag).
    async fn filter(&self, db: &Db) -> Result<AuditFilter> {
        let input = AuditFilterInput {
            actor: self.actor.clone(),
            user: self.user.clone(),
            action: self.action.clone(),
            status: self.status.clone(),
            ip: self.ip.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            reason: self.reason.clone(),
        };
        input.resolve(db).await.map_err(flag_error)
    }
}

/// A core `invalid_input` names the field as the console does (`from`); the CLI names the flag (`--from`).
fn flag_error(e: Error) -> Error {
    match e {
        Error::InvalidInput { field, rule } => Error::InvalidInput {
            field: format!("--{}", if field == "file" { "out" } else { field.as_str() }),
            rule,
        },
        other => other,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!("{}", serde_json::to_string(&e.to_payload()).unwrap_or_default());
            } else {
                eprintln!("error [{}]: {e}", e.code());
            }
            ExitCode::from(match e {
                Error::InvalidInput { .. }
                | Error::PolicyInvalid { .. }
                | Error::PasswordRejected { .. }
                | Error::DatabaseUrl(_) => 2,
                _ => 1,
            })
        }
    }
}

fn need_db(cli: &Cli) -> Result<&str> {
    cli.db
        .as_deref()
        .ok_or_else(|| Error::invalid("--db", "give the database URL with --db or WARDEN_DB"))
}

/// `key=value` arguments of the policy commands.
fn policy_pairs(assignments: &[String]) -> Result<Vec<(String, String)>> {
    assignments
        .iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| Error::invalid(a.as_str(), "must be key=value, e.g. session.ttl=12h"))
        })
        .collect()
}

/// What an interrupted bulk run did and did not do, in one sentence.
fn interrupted_line(r: &bulk::BulkRun, now: i64) -> String {
    format!(
        "An earlier bulk termination by {} ({}, \"{}\") stopped half-way: it ended {} of {} session(s) in {} batch(es) and did not reach the other {}.",
        r.actor_label,
        ago(now, r.started_at),
        r.reason,
        r.terminated,
        r.matched,
        r.batches,
        r.matched - r.terminated
    )
}

fn print_policy_update(json: bool, update: &policy_store::PolicyUpdate, shortened: bool) {
    if json {
        print_json(update);
        return;
    }
    println!("Saved policy version {}:", update.version);
    for c in &update.changes {
        println!("  {}: {} -> {}", c.key, c.from, c.to);
    }
    if update.changes.is_empty() {
        println!("  (no value changed)");
    }
    if shortened {
        println!(
            "Shortened {} live session(s) to the new caps.",
            update.sessions_shortened
        );
    }
}

fn print_policy_preview(p: &policy_store::PolicyPreview) {
    println!("Checked against policy version {}.", p.version);
    if !p.violations.is_empty() {
        println!("Not valid:");
        for v in &p.violations {
            println!("  {}: {}", v.field, v.rule);
        }
    }
    if p.changes.is_empty() {
        println!("No value changes.");
    } else {
        println!("Changes:");
        for c in &p.changes {
            println!("  {}: {} -> {}", c.key, c.from, c.to);
        }
    }
    if let Some(sim) = &p.simulation {
        let s = &sim.sessions;
        let l = &sim.lockout;
        println!("Live sessions now: {}", s.live);
        println!(
            "  ended by the new idle and lifetime caps: {} ({} privileged)",
            s.ended, s.ended_privileged
        );
        println!(
            "  with --shorten-sessions: {} shortened, {} ended in all",
            s.shortened, s.ended_if_shortened
        );
        println!("Accounts locked now: {}", l.locked);
        println!(
            "  under the new lockout rules: {} ({} would be open, {} more locked); locks in force keep their end",
            l.locked_under_new, l.newly_unlocked, l.newly_locked
        );
    }
}

/// What `warden inspect` found, as sentences (or JSON with `--json`).
fn print_inspection(json: bool, db: &Db, found: &Found, adopted: bool) {
    let backend = db.backend().name();
    if json {
        let v = match found {
            Found::Empty => json!({ "kind": "empty", "backend": backend }),
            Found::Warden(state) => json!({ "kind": "warden", "backend": backend, "state": format!("{state:?}") }),
            Found::Library(i) => json!({
                "kind": "library",
                "backend": backend,
                "summary": i.summary(),
                "inspection": i,
                "adopted": adopted,
            }),
            Found::Unknown(tables) => json!({ "kind": "unknown", "backend": backend, "tables": tables }),
        };
        print_json(&v);
        return;
    }
    match found {
        Found::Empty => println!("An empty {backend} database: `warden migrate` creates Warden's schema in it."),
        Found::Warden(state) => println!("A Warden database on {backend} ({}).", warden_state(state)),
        Found::Unknown(tables) => println!(
            "Neither Warden's schema nor Better Auth's or Auth.js's: the {backend} database holds {}.",
            library::shown_tables(tables)
        ),
        Found::Library(i) => {
            let s = &i.schema;
            println!("{} ({} live), on {backend}.", i.summary(), i.live_sessions);
            let tables: Vec<String> = s
                .tables
                .iter()
                .map(|(role, t)| format!("{} \"{}\"", role.key(), t.name))
                .collect();
            println!("Tables: {}.", tables.join(", "));
            println!(
                "Columns in {}; instants stored as {}.",
                if s.snake_case { "snake_case" } else { "camelCase" },
                match s.dates {
                    library::DateStyle::Timestamptz => "timestamptz",
                    library::DateStyle::TimestampUtc => "timestamp (UTC, no time zone)",
                    library::DateStyle::IsoText => "ISO 8601 text",
                    library::DateStyle::EpochMillis => "milliseconds since 1970",
                    library::DateStyle::EpochSeconds => "seconds since 1970",
                }
            );
            println!();
            println!("What this schema carries:");
            for c in &i.capabilities {
                let note = c.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
                println!("  {:<5}{}{note}", if c.available { "yes" } else { "no" }, c.what);
            }
            if !i.notes.is_empty() {
                println!();
                println!("Before relying on ending a session here:");
                for n in &i.notes {
                    println!("  - {n}");
                }
            }
            println!();
            if adopted {
                println!(
                    "Warden has adopted it: its own tables are in the `{}` schema, and every command works on it. \
                     Nothing was written.",
                    warden_core::store::WARDEN_SCHEMA
                );
            } else {
                println!("Nothing was written. `warden adopt` puts Warden's own tables beside the library's.");
            }
        }
    }
}

fn warden_state(state: &warden_core::store::SchemaState) -> String {
    use warden_core::store::SchemaState;
    match state {
        SchemaState::Current => "its schema is up to date".into(),
        SchemaState::Behind { applied, known } => {
            format!("{applied} of {known} migrations applied: `warden migrate` brings it up to date")
        }
        SchemaState::Newer => "its schema is newer than this build: upgrade Warden".into(),
        SchemaState::Empty | SchemaState::Foreign { .. } => "not Warden's".into(),
    }
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn run(cli: Cli) -> Result<()> {
    let clock = SystemClock;
    let now = clock.now();
    match &cli.command {
        Command::Keygen => {
            let key = warden_core::rules::totp::DataKey::generate();
            println!("{}", key.to_base64().expose());
            return Ok(());
        }
        Command::Migrate => {
            let db = Db::connect(need_db(&cli)?, true).await?;
            let n = db.migrate().await?;
            if cli.json {
                print_json(&json!({ "applied": n, "backend": db.backend().name() }));
            } else if n == 0 {
                println!("The {} schema is up to date.", db.backend().name());
            } else {
                println!(
                    "Applied {n} migration(s) on {}: the schema is up to date.",
                    db.backend().name()
                );
            }
            return Ok(());
        }
        Command::Inspect { schema, tables } => {
            let db = Db::connect(need_db(&cli)?, false).await?;
            let library = schema
                .as_deref()
                .map(|s| {
                    library::Library::parse(s).ok_or_else(|| Error::invalid("schema", "must be better-auth or authjs"))
                })
                .transpose()?;
            let named = library::parse_table_names(tables.as_deref().unwrap_or(""))
                .map_err(|rule| Error::invalid("tables", rule))?;
            let found = library::inspect(&db, now, library, &named).await?;
            let adopted = matches!(found, Found::Library(_)) && db.is_adopted().await?;
            print_inspection(cli.json, &db, &found, adopted);
            return Ok(());
        }
        Command::Adopt {
            schema,
            tables,
            admin_email,
            admin_name,
            password,
        } => {
            let actor = warden_core::ops::operator::cli(now)?;
            return adopted::adopt(
                need_db(&cli)?,
                cli.json,
                &actor,
                now,
                schema.as_deref(),
                tables.as_deref(),
                admin_email.as_deref(),
                admin_name.as_deref(),
                password.as_deref(),
            )
            .await;
        }
        Command::Demo {
            users,
            schema: Some(schema),
            sessions_per_user,
            busy_sessions,
            at,
            ..
        } => {
            if library::Library::parse(schema) != Some(library::Library::BetterAuth) {
                return Err(Error::invalid("schema", "the demo is made in better-auth's shape only"));
            }
            let db = Db::connect(need_db(&cli)?, false).await?;
            if db.schema_state().await? != warden_core::store::SchemaState::Empty {
                return Err(Error::SchemaIncompatible(
                    "the Better Auth demo is made in an empty database: this one holds tables already".into(),
                ));
            }
            let at = at.as_deref().map(|s| parse_time("--at", s)).transpose()?.unwrap_or(now);
            let actor = warden_core::ops::operator::cli(now)?;
            let report =
                demo::better_auth::generate(&db, &actor, *users, *sessions_per_user, *busy_sessions, at).await?;
            if cli.json {
                print_json(&report);
            } else {
                println!(
                    "Better Auth demo ready in {:.1} s: {} users, {} sessions (busy@example.test holds {} live ones); \
                     adopted by Warden.",
                    report.elapsed_ms as f64 / 1000.0,
                    report.users,
                    report.sessions,
                    report.busy_sessions
                );
                println!(
                    "Console sign-in (demo data only): {}  password {}",
                    report.admin_email, report.admin_password
                );
            }
            return Ok(());
        }
        Command::Demo { users, seed, at, .. } => {
            let db = Db::connect(need_db(&cli)?, true).await?;
            let at = at.as_deref().map(|s| parse_time("--at", s)).transpose()?.unwrap_or(now);
            let quiet = cli.json;
            let report = demo::generate(
                &db,
                &demo::DemoOptions {
                    users: *users,
                    seed: *seed,
                    now: at,
                },
                |p| {
                    if !quiet {
                        eprintln!("  {p}");
                    }
                },
            )
            .await?;
            if cli.json {
                print_json(&report);
            } else {
                println!("Demo data set ready in {:.1} s:", report.elapsed_ms as f64 / 1000.0);
                println!(
                    "  {} users ({} locked), {} sessions ({} active), {} session events, {} login attempts, {} audit events",
                    report.users, report.locked_users, report.sessions, report.active_sessions, report.session_events,
                    report.login_attempts, report.audit_events
                );
                println!();
                println!("Demo credentials (demo data only):");
                println!(
                    "  security admin  {}  password {}  TOTP secret {}",
                    report.admin_email, report.admin_password, report.admin_totp_secret
                );
                println!(
                    "  support         {}  password {}",
                    report.support_email, report.support_password
                );
                println!("  other users     password {}", report.user_password);
                println!("  data key        WARDEN_DATA_KEY={}", report.data_key);
            }
            return Ok(());
        }
        _ => {}
    }
    let db = Db::open(need_db(&cli)?).await?;
    // The one place the command line gets its capability: every action below is audited as this operator.
    let actor = warden_core::ops::operator::cli(now)?;
    if db.library().is_some() && adopted::run(&db, &actor, &cli.command, cli.json, now).await? {
        return Ok(());
    }
    match cli.command {
        Command::Migrate | Command::Inspect { .. } | Command::Adopt { .. } | Command::Demo { .. } | Command::Keygen => {
            unreachable!("handled above")
        }
        Command::Bench(args) => bench::run(&db, &actor, args, cli.json).await?,
        Command::Users(UsersCmd::List {
            search,
            locked,
            flagged,
            role,
            sort,
            limit,
            after,
        }) => {
            let sort = match sort.as_str() {
                "created" => UserSort::Created,
                "last-active" | "last_active" => UserSort::LastActive,
                _ => return Err(Error::invalid("--sort", "must be created or last-active")),
            };
            let q = UserQuery {
                search,
                locked: locked.then_some(true),
                flagged: flagged.then_some(true),
                role: role.as_deref().map(Role::parse).transpose()?,
                sort,
                after,
                limit,
                ..Default::default()
            };
            let page = admin::users_page(&db, &actor, &q, now).await?;
            if cli.json {
                print_json(&page);
                return Ok(());
            }
            let mut t = Table::new(&[
                "EMAIL",
                "NAME",
                "ROLE",
                "STATUS",
                "2FA",
                "SESSIONS",
                "LAST ACTIVE",
                "ID",
            ]);
            for s in &page.users {
                let u = &s.user;
                let status = if u.locked_permanently {
                    "locked (permanent)".to_string()
                } else if let Some(t) = u.locked_until {
                    format!("locked until {}", format_ms(t))
                } else if !u.email_verified {
                    "unverified".into()
                } else {
                    "ok".into()
                };
                t.row(vec![
                    u.email.clone(),
                    u.name.clone(),
                    u.role.as_str().into(),
                    status,
                    if u.totp_enabled { "on" } else { "off" }.into(),
                    s.active_sessions.to_string(),
                    u.last_active_at.map(|t| ago(now, t)).unwrap_or_else(|| "never".into()),
                    u.id.to_string(),
                ]);
            }
            t.print();
            match page.next_cursor {
                Some(c) => println!("\nmore: --after {c}"),
                None => println!("\n{} user(s)", page.users.len()),
            }
        }
        Command::Users(UsersCmd::Show { user }) => {
            let d = admin::user_detail(&db, &actor, &user, now).await?;
            if cli.json {
                print_json(&d);
                return Ok(());
            }
            let u = &d.user;
            println!("{} <{}>  {}  id {}", u.name, u.email, u.role.as_str(), u.id);
            println!(
                "  created {}   last active {}",
                format_ms(u.created_at),
                u.last_active_at.map(format_ms).unwrap_or_else(|| "never".into())
            );
            println!(
                "  email {}   two-factor {}",
                if u.email_verified { "verified" } else { "unverified" },
                if u.totp_enabled { "on" } else { "off" }
            );
            let lock = if u.locked_permanently {
                "LOCKED until an administrator unlocks it".to_string()
            } else if let Some(t) = u.locked_until {
                format!("LOCKED until {}", format_ms(t))
            } else {
                "not locked".into()
            };
            println!(
                "  lockout: {lock}; {} recent failure(s), {} lock(s){}",
                u.failed_count,
                u.lock_count,
                u.last_failed_at
                    .map(|t| format!(", last failure {} from {}", format_ms(t), opt(&u.last_failed_ip)))
                    .unwrap_or_default()
            );
            println!("\nSessions:");
            sessions_table(d.sessions.iter().map(|v| (v, None)), now).print();
            println!("\nRecent activity:");
            audit_table(&d.recent_activity).print();
        }
        Command::Users(UsersCmd::Add {
            email,
            name,
            role,
            password,
            verified,
        }) => {
            let id = warden_core::ops::auth::sign_up(
                &db,
                now,
                &warden_core::ops::auth::NewAccount {
                    email: &email,
                    name: &name,
                    password: &password.into(),
                    role: Role::parse(&role)?,
                    verified,
                    ip: None,
                },
            )
            .await?;
            if cli.json {
                print_json(&json!({ "id": id }));
            } else {
                println!("Created {email} ({role}), id {id}.");
            }
        }
        Command::Sessions(SessionsCmd::List {
            filter,
            status,
            sort,
            limit,
            after,
        }) => {
            let sort = match sort.as_str() {
                "created" => SessionSort::Created,
                "last-active" | "last_active" => SessionSort::LastActive,
                _ => return Err(Error::invalid("sort", "must be created or last-active")),
            };
            let page = admin::sessions_page(
                &db,
                &actor,
                &SessionQuery {
                    filter: filter.filter(&status)?,
                    sort,
                    after,
                    limit,
                },
                now,
            )
            .await?;
            if cli.json {
                print_json(&page);
                return Ok(());
            }
            sessions_table(
                page.sessions.iter().map(|i| (&i.view, Some(i.user_email.as_str()))),
                now,
            )
            .print();
            match page.next_cursor {
                Some(c) => println!("\nmore: --after {c}"),
                None => println!("\n{} session(s)", page.sessions.len()),
            }
        }
        Command::Sessions(SessionsCmd::Count { filter, status }) => {
            let c = admin::count_sessions(&db, &actor, &filter.filter(&status)?, now).await?;
            if cli.json {
                print_json(&c);
            } else {
                println!("{} session(s) of {} user(s)", c.sessions, c.users);
            }
        }
        Command::Sessions(SessionsCmd::BulkRevoke {
            filter,
            ids,
            everyone,
            reason,
            yes,
            batch_size,
        }) => {
            let target = if everyone {
                BulkTarget::Everyone
            } else if !ids.is_empty() {
                let ids = ids
                    .iter()
                    .map(|i| {
                        Uuid::parse_str(i.trim())
                            .map_err(|_| Error::invalid("ids", "must be session ids (UUIDs), comma-separated"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                BulkTarget::Sessions(ids)
            } else {
                BulkTarget::Filter(Box::new(filter.filter("active")?))
            };
            let req = BulkRequest {
                target,
                include_own: true,
                reason,
                batch_size,
            };
            let plan = bulk::plan(&db, &actor, &req, now).await?;
            if !yes {
                if cli.json {
                    print_json(&plan);
                } else {
                    println!(
                        "Dry run: {} live session(s) of {} user(s) would be ended{}.",
                        plan.sessions,
                        plan.users,
                        if plan.already_ended > 0 {
                            format!("; {} selected session(s) have already ended", plan.already_ended)
                        } else {
                            String::new()
                        }
                    );
                    if !plan.sample.is_empty() {
                        println!("\nFor example:");
                        sessions_table(plan.sample.iter().map(|i| (&i.view, Some(i.user_email.as_str()))), now).print();
                    }
                    for r in &plan.interrupted {
                        println!("\n{}", interrupted_line(r, now));
                    }
                    println!("\nRun again with --yes to end them.");
                }
                return Ok(());
            }
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let json = cli.json;
            let mut report = |p: bulk::BulkProgress| {
                if !json && p.total > 0 {
                    eprint!("\r{} / {} session(s) ended, {} batch(es)", p.done, p.total, p.batches);
                }
            };
            let summary = bulk::run(&db, &actor, &SystemClock, &req, &cancel, &mut report).await?;
            if json {
                print_json(&summary);
            } else {
                eprintln!();
                for r in &summary.interrupted {
                    println!(
                        "{} Recorded as interrupted (audit event #{}).",
                        interrupted_line(r, now),
                        r.summary_seq.unwrap_or(0)
                    );
                }
                println!(
                    "Ended {} session(s) in {} batch(es); {} had already ended, {} kept, {} failed. Audit event #{}.",
                    summary.terminated,
                    summary.batches,
                    summary.already_ended,
                    summary.skipped,
                    summary.failed,
                    summary.audit_seq
                );
                if let Some(e) = &summary.error {
                    println!("Stopped by an error: {e}");
                }
            }
            if summary.error.is_some() {
                return Err(Error::Unexpected(
                    "the bulk termination stopped early; see the summary".into(),
                ));
            }
        }
        Command::Sessions(SessionsCmd::BulkStatus { limit }) => {
            let runs = bulk::runs(&db, &actor, limit).await?;
            if cli.json {
                print_json(&runs);
            } else {
                let mut t = Table::new(&[
                    "STARTED", "BY", "TARGET", "STATE", "ENDED", "OF", "BATCHES", "REASON", "ID",
                ]);
                for r in &runs {
                    let state = match (r.finished_at, r.interrupted, r.is_stale(now)) {
                        (Some(_), true, _) => "interrupted",
                        (Some(_), false, _) => "finished",
                        (None, _, true) => "interrupted (not yet recorded)",
                        (None, _, false) => "running",
                    };
                    t.row(vec![
                        ago(now, r.started_at),
                        r.actor_label.clone(),
                        r.target.clone(),
                        state.into(),
                        r.terminated.to_string(),
                        r.matched.to_string(),
                        r.batches.to_string(),
                        r.reason.clone(),
                        r.id.to_string(),
                    ]);
                }
                t.print();
            }
        }
        Command::Mail { user, limit } => {
            let user = match user {
                Some(u) => Some(warden_core::ops::users::find(&db, &u).await?.id),
                None => None,
            };
            let mails = warden_core::ops::mail::undelivered(&db, &actor, user, now, limit).await?;
            if cli.json {
                print_json(&mails);
            } else if mails.is_empty() {
                println!("Every email was delivered.");
            } else {
                let mut t = Table::new(&["QUEUED", "TO", "KIND", "TRIES", "STATE", "LAST ERROR"]);
                for m in &mails {
                    let state = match (m.gave_up_at, m.next_at) {
                        (Some(at), _) => format!("given up {}", ago(now, at)),
                        (None, Some(at)) if at <= now => "due now".to_owned(),
                        (None, Some(at)) => format!("next try in {} min", (at - now + 59_999) / 60_000),
                        (None, None) => "waiting".to_owned(),
                    };
                    t.row(vec![
                        ago(now, m.created_at),
                        m.email.clone(),
                        m.kind.clone(),
                        m.attempts.to_string(),
                        state,
                        m.last_error.clone().unwrap_or_default(),
                    ]);
                }
                t.print();
            }
        }
        Command::Sessions(SessionsCmd::Revoke { keep_row: true, .. })
        | Command::Sessions(SessionsCmd::RevokeUser { keep_row: true, .. }) => {
            return Err(Error::invalid(
                "keep-row",
                "applies to a Better Auth database that Warden adopted; Warden's own sessions always keep their rows",
            ))
        }
        Command::Enforce { .. } => {
            return Err(Error::SchemaIncompatible(
                "Warden's own engine applies the session caps itself, at every validation: `warden enforce` is for \
                 a Better Auth or Auth.js database that Warden adopted"
                    .into(),
            ))
        }
        Command::Users(UsersCmd::Ban { .. }) | Command::Users(UsersCmd::Unban { .. }) => {
            return Err(Error::SchemaIncompatible(
                "banning is done on a Better Auth database with its admin plugin; on Warden's own schema, end the \
                 user's sessions with `warden sessions revoke-user`"
                    .into(),
            ))
        }
        Command::Users(UsersCmd::ResetTwoFactor { user, reason }) => {
            let u = admin::reset_totp(&db, &actor, now, &user, &reason).await?;
            if cli.json {
                print_json(&u);
            } else {
                println!("Two-factor is off for {}.", u.email);
            }
        }
        Command::Sessions(SessionsCmd::Revoke { id, reason, .. }) => {
            let id = Uuid::parse_str(id.trim()).map_err(|_| Error::invalid("id", "must be a session id (a UUID)"))?;
            let ended = admin::revoke_session(&db, &actor, now, id, &reason).await?;
            if cli.json {
                print_json(&json!({ "revoked": ended }));
            } else if ended {
                println!("Session {id} ended.");
            } else {
                println!("Session {id} had already ended; recorded in the audit log.");
            }
        }
        Command::Sessions(SessionsCmd::RevokeUser { user, reason, .. }) => {
            let n = admin::revoke_user_sessions(&db, &actor, now, &user, &reason).await?;
            if cli.json {
                print_json(&json!({ "revoked": n }));
            } else {
                println!("Ended {n} session(s) of {user}.");
            }
        }
        Command::Unlock { user, reason } => {
            let u = admin::unlock_user(&db, &actor, now, &user, &reason).await?;
            if cli.json {
                print_json(&u);
            } else {
                println!("{} is unlocked.", u.email);
            }
        }
        Command::Policy(PolicyCmd::Show) => {
            let (version, policy) = policy_store::current(&db).await?;
            // On an adopted database, where each key applies: to the application's own sessions, or only to
            // what goes through Warden (the console's staff).
            let scope = |key: &str| db.library().map(|l| warden_core::rules::library::policy_scope(l, key));
            if cli.json {
                let scopes: serde_json::Map<String, serde_json::Value> = policy
                    .entries()
                    .iter()
                    .filter_map(|(k, _)| Some((k.to_string(), serde_json::to_value(scope(k)?).ok()?)))
                    .collect();
                print_json(&json!({ "version": version, "policy": policy, "scope": scopes }));
                return Ok(());
            }
            println!(
                "Policy version {version}{}",
                if version == 0 { " (defaults; never changed)" } else { "" }
            );
            match db.library() {
                None => {
                    let mut t = Table::new(&["KEY", "VALUE"]);
                    for (k, v) in policy.entries() {
                        t.row(vec![k.to_string(), v]);
                    }
                    t.print();
                }
                Some(l) => {
                    let mut t = Table::new(&["KEY", "VALUE", "ON THIS DATABASE"]);
                    for (k, v) in policy.entries() {
                        let s = warden_core::rules::library::policy_scope(l, k);
                        let here = if s.applies {
                            "applied to the application's sessions (warden enforce)"
                        } else {
                            "the console's staff only"
                        };
                        t.row(vec![k.to_string(), v, here.into()]);
                    }
                    t.print();
                    println!(
                        "\nOn this {} database only the keys applied to the application's sessions reach its users; \
                         the others govern the console's own staff accounts, whose sign-ins go through Warden.",
                        l.library.name()
                    );
                }
            }
        }
        Command::Policy(PolicyCmd::Set {
            assignments,
            note,
            shorten_sessions,
        }) => {
            let pairs = policy_pairs(&assignments)?;
            let options = policy_store::SaveOptions {
                shorten_sessions,
                ..Default::default()
            };
            let update = policy_store::set_with(&db, &actor, now, &pairs, &note, options).await?;
            print_policy_update(cli.json, &update, shorten_sessions);
        }
        Command::Policy(PolicyCmd::Preview { assignments }) => {
            let pairs = policy_pairs(&assignments)?;
            let preview = policy_store::preview(&db, &actor, now, &pairs).await?;
            if cli.json {
                print_json(&preview);
            } else {
                print_policy_preview(&preview);
            }
            if !preview.violations.is_empty() {
                // Exit like a refused `set`, naming the first broken rule.
                let v = &preview.violations[0];
                return Err(Error::policy(v.field.clone(), v.rule.clone()));
            }
        }
        Command::Policy(PolicyCmd::Rollback {
            version,
            note,
            shorten_sessions,
        }) => {
            let options = policy_store::SaveOptions {
                shorten_sessions,
                ..Default::default()
            };
            let update = policy_store::rollback(&db, &actor, now, version, &note, options).await?;
            print_policy_update(cli.json, &update, shorten_sessions);
        }
        Command::Policy(PolicyCmd::History) => {
            let versions = policy_store::history_with_changes(&db, &actor).await?;
            if cli.json {
                print_json(&versions);
                return Ok(());
            }
            let mut t = Table::new(&["VERSION", "AT", "BY", "NOTE", "CHANGES"]);
            for v in &versions {
                let changes: Vec<String> = v
                    .changes
                    .iter()
                    .map(|c| format!("{}: {} -> {}", c.key, c.from, c.to))
                    .collect();
                t.row(vec![
                    v.version.to_string(),
                    format_ms(v.created_at),
                    v.created_by.clone(),
                    v.note.clone(),
                    changes.join("; "),
                ]);
            }
            t.print();
        }
        Command::Flags(FlagsCmd::List {
            status,
            user,
            limit,
            after,
        }) => {
            let page = flags::page(
                &db,
                &actor,
                &flags::FlagQuery {
                    status: Some(status),
                    user,
                    limit,
                    after,
                },
            )
            .await?;
            if cli.json {
                print_json(&page);
                return Ok(());
            }
            let mut t = Table::new(&["ID", "AT", "USER", "RULE", "SEVERITY", "STATUS", "DETAIL"]);
            for f in &page.flags {
                t.row(vec![
                    f.id.to_string(),
                    format_ms(f.created_at),
                    f.user_email.clone(),
                    f.rule.clone(),
                    f.severity.clone(),
                    f.status.clone(),
                    f.detail.clone(),
                ]);
            }
            t.print();
            match page.next_cursor {
                Some(c) => println!("\nmore: --after {c}"),
                None => println!("\n{} open flag(s) in all", page.open),
            }
        }
        Command::Flags(FlagsCmd::Resolve {
            id,
            dismissed,
            actioned: _,
            reason,
        }) => {
            let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::FlagNotFound)?;
            let resolution = if dismissed {
                flags::Resolution::Dismissed
            } else {
                flags::Resolution::Actioned
            };
            let f = flags::resolve(&db, &actor, now, id, resolution, &reason).await?;
            if cli.json {
                print_json(&f);
            } else {
                println!("Flag {} ({} for {}) is {}.", f.id, f.rule, f.user_email, f.status);
            }
        }
        Command::Audit(AuditCmd::List(a)) => {
            let filter = a.filter.filter(&db).await?;
            let page = audit::list(&db, &actor, &filter, a.before, a.limit).await?;
            if cli.json {
                print_json(&page);
                return Ok(());
            }
            audit_table(&page.events).print();
            match page.next_cursor {
                Some(c) => println!("\nmore: --before {c}"),
                None => println!("\n{} event(s)", page.events.len()),
            }
        }
        Command::Audit(AuditCmd::Export(a)) => {
            let filter = a.filter.filter(&db).await?;
            let format = ExportFormat::parse(&a.format)?;
            let quiet = cli.json || a.out == "-";
            let mut report = |done: i64, total: i64| {
                if !quiet && total > 0 {
                    eprint!("\r{done} / {total} events written");
                }
            };
            let rows = if a.out == "-" {
                let mut out = std::io::BufWriter::new(std::io::stdout());
                export::export(&db, &actor, now, &filter, format, &mut out, &mut report).await?
            } else {
                // Written beside the target and renamed into place, so a failed export leaves no half file.
                let path = std::path::PathBuf::from(&a.out);
                audit_query::export_to_file(&db, &actor, now, &filter, format, &path, &mut report)
                    .await
                    .map_err(flag_error)?
                    .rows
            };
            if cli.json {
                print_json(&json!({ "rows": rows, "format": format.as_str(), "out": a.out }));
            } else if a.out != "-" {
                eprintln!();
                println!("Exported {rows} event(s) to {} ({}).", a.out, format.as_str());
            }
        }
        Command::Audit(AuditCmd::Verify) => {
            let quiet = cli.json;
            let report = audit::verify(&db, &actor, now, |done, total| {
                if !quiet && total > 0 {
                    eprint!("\r  verified {done} of {total} events");
                }
            })
            .await?;
            if !quiet {
                eprintln!();
            }
            if cli.json {
                print_json(&report);
            } else if report.is_intact() {
                println!(
                    "Audit chain intact: {} events verified up to #{}.",
                    report.events_verified, report.head_seq
                );
            } else {
                println!(
                    "AUDIT CHAIN BROKEN at event {}: {} ({} events verified before it).",
                    report.broken_at.unwrap_or_default(),
                    report.detail.clone().unwrap_or_default(),
                    report.events_verified
                );
            }
            if let Some(seq) = report.broken_at {
                return Err(Error::AuditChainBroken {
                    seq,
                    detail: report.detail.unwrap_or_default(),
                });
            }
        }
    }
    Ok(())
}

/// Sessions, with a USER column when the rows carry their user's email.
fn sessions_table<'a>(
    sessions: impl Iterator<Item = (&'a warden_core::ops::sessions::SessionView, Option<&'a str>)>,
    now: i64,
) -> Table {
    let sessions: Vec<_> = sessions.collect();
    let with_user = sessions.iter().any(|(_, u)| u.is_some());
    let mut header = vec!["ID"];
    if with_user {
        header.push("USER");
    }
    header.extend([
        "STATUS",
        "DEVICE",
        "BROWSER",
        "OS",
        "IP",
        "PLACE",
        "METHOD",
        "CREATED",
        "LAST SEEN",
        "EXPIRES",
    ]);
    let mut t = Table::new(&header);
    for (v, user) in sessions {
        let s = &v.session;
        let status = match (&s.revoke_reason, v.status.as_str()) {
            (Some(r), _) => format!(
                "ended ({r}{})",
                s.revoked_by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default()
            ),
            (None, st) => st.to_string(),
        };
        let mut row = vec![s.id.to_string()];
        if with_user {
            row.push(user.unwrap_or("-").to_owned());
        }
        row.extend([
            status,
            s.device.clone(),
            format!("{} {}", opt(&s.browser), s.browser_version.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
            opt(&s.os),
            opt(&s.ip),
            match (&s.city, &s.country) {
                (Some(c), Some(k)) => format!("{c}, {k}"),
                (None, Some(k)) => k.clone(),
                _ => "-".into(),
            },
            s.auth_method.clone(),
            format_ms(s.created_at),
            ago(now, s.last_seen_at),
            format_ms(s.expires_at),
        ]);
        t.row(row);
    }
    t
}

fn audit_table(events: &[audit::AuditEvent]) -> Table {
    let mut t = Table::new(&["SEQ", "AT", "ACTOR", "ACTION", "STATUS", "TARGET", "REASON"]);
    for e in events {
        t.row(vec![
            e.seq.to_string(),
            format_ms(e.at),
            e.actor_label.clone(),
            e.action.clone(),
            e.status.clone(),
            e.target_user_id.map(|u| u.to_string()).unwrap_or_else(|| "-".into()),
            e.reason.clone().unwrap_or_default(),
        ]);
    }
    t
}
