//! The commands on a library's auth database that Warden adopted (Better Auth, Auth.js): `warden adopt`
//! itself, and the users and sessions commands answered from the library's own tables, acting in the
//! library's own terms (`ops::subjects`). The audit log, the policy and the flags are Warden's own tables
//! beside the library's, so those commands run as on Warden's own schema.

use serde_json::json;
use warden_core::model::authz::Admin;
use warden_core::model::clock::{format_ms, Millis};
use warden_core::model::policy::Duration;
use warden_core::ops::library::{self, LibrarySchema};
use warden_core::ops::subjects::{self, RevokeStyle, SubjectSession};
use warden_core::{Db, Error, Result, Role};

use crate::output::{opt, Table};
use crate::{print_json, Command, SessionsCmd, UsersCmd};

/// `warden adopt`: puts Warden's tables beside the library's, then (with `--admin-email`) makes the
/// first security admin of the console in Warden's own tables.
#[allow(clippy::too_many_arguments)]
pub async fn adopt(
    url: &str,
    json_out: bool,
    actor: &Admin,
    now: Millis,
    schema: Option<&str>,
    tables: Option<&str>,
    admin_email: Option<&str>,
    admin_name: Option<&str>,
    password: Option<&str>,
) -> Result<()> {
    let library = schema
        .map(|s| library::Library::parse(s).ok_or_else(|| Error::invalid("schema", "must be better-auth or authjs")))
        .transpose()?;
    let named = library::parse_table_names(tables.unwrap_or("")).map_err(|rule| Error::invalid("tables", rule))?;
    let admin = match admin_email {
        Some(email) => {
            let Some(pw) = password.filter(|p| !p.is_empty()) else {
                return Err(Error::invalid(
                    "password",
                    "the first security admin needs a password: set WARDEN_PASSWORD",
                ));
            };
            Some((email, admin_name.unwrap_or("Security admin"), pw))
        }
        None => None,
    };
    let db = Db::connect(url, false).await?;
    let adopted = library::adopt(&db, actor, now, library, &named).await?;
    db.close().await;
    let mut staff = None;
    if let Some((email, name, pw)) = admin {
        let made = warden_core::ops::auth::sign_up(
            &adopted.db,
            now,
            &warden_core::ops::auth::NewAccount {
                email,
                name,
                password: &pw.to_owned().into(),
                role: Role::SecurityAdmin,
                verified: true,
                ip: None,
            },
        )
        .await;
        staff = match made {
            Ok(id) => Some(json!({ "email": email, "id": id, "created": true })),
            Err(Error::EmailTaken) => Some(json!({ "email": email, "created": false })),
            Err(e) => return Err(e),
        };
    }
    let i = &adopted.inspection;
    let schema = adopted.db.library().cloned();
    if json_out {
        print_json(&json!({
            "adopted": adopted.new,
            "summary": i.summary(),
            "schema": schema,
            "warden_schema": warden_core::store::WARDEN_SCHEMA,
            "staff": staff,
        }));
        return Ok(());
    }
    let ns = schema.as_ref().and_then(|s| s.namespace.clone()).unwrap_or_default();
    if adopted.new {
        println!("Adopted: {}.", i.summary());
        println!(
            "Warden's own tables (audit log, policy, flags, ended sessions, staff accounts) are in the schema \
             `{}`, beside the library's tables in `{ns}`; none of the library's tables was changed.",
            warden_core::store::WARDEN_SCHEMA
        );
    } else {
        println!(
            "Already adopted ({}); Warden's own tables are up to date and nothing of the library's was touched.",
            i.summary()
        );
    }
    match staff {
        Some(s) if s["created"] == true => println!(
            "Security admin {} created: sign in to the console with this email and WARDEN_PASSWORD.",
            s["email"].as_str().unwrap_or_default()
        ),
        Some(s) => println!(
            "Security admin {} exists already; its password was not changed.",
            s["email"].as_str().unwrap_or_default()
        ),
        None => {}
    }
    if !i.notes.is_empty() {
        println!();
        println!("Before relying on ending a session here:");
        for n in &i.notes {
            println!("  - {n}");
        }
    }
    Ok(())
}

/// How a revocation leaves the library's row: deleted, or kept with its expiry set to now.
fn style(keep_row: bool) -> RevokeStyle {
    if keep_row {
        RevokeStyle::Expire
    } else {
        RevokeStyle::Delete
    }
}

/// `--until`: a span from now (`7d`, `12h`) or an RFC 3339 time.
fn parse_until(s: &str, now: Millis) -> Result<Millis> {
    if let Some(d) = Duration::parse(s) {
        return Ok(now + d.as_millis());
    }
    warden_core::model::input::parse_time("until", s)
        .map_err(|_| Error::invalid("until", "must be a span from now (7d, 12h) or an RFC 3339 time"))
}

/// The refusal of a command the library's schema cannot carry, in words.
fn not_here(schema: &LibrarySchema, what: &str, why: &str) -> Error {
    Error::SchemaIncompatible(format!(
        "`warden {what}` is not available on this {} database: {why}",
        schema.library.name()
    ))
}

/// A session's expiry for a table, marked when it has passed.
fn expiry(at: Option<Millis>, now: Millis) -> String {
    match at {
        Some(e) if e > now => format_ms(e),
        Some(e) => format!("{} (over)", format_ms(e)),
        None => "-".into(),
    }
}

fn sessions_table(sessions: &[SubjectSession], now: Millis) -> Table {
    let mut t = Table::new(&["SESSION", "CREATED", "EXPIRES", "IP", "USER AGENT"]);
    for s in sessions {
        t.row(vec![
            s.key.clone(),
            s.created_at.map(format_ms).unwrap_or_else(|| "-".into()),
            expiry(s.expires_at, now),
            opt(&s.ip),
            opt(&s.user_agent),
        ]);
    }
    t
}

/// Runs `command` on an adopted database. `Ok(false)`: the command is one of Warden's own tables
/// (audit, policy, flags, mail), to run as on Warden's own schema.
pub async fn run(db: &Db, actor: &Admin, command: &Command, json_out: bool, now: Millis) -> Result<bool> {
    let schema = db
        .library()
        .cloned()
        .ok_or_else(|| Error::Unexpected("not an adopted database".into()))?;
    let staff = &**actor;
    match command {
        Command::Users(UsersCmd::List {
            search,
            locked,
            flagged,
            role,
            sort,
            limit,
            after,
        }) => {
            if *locked || *flagged || role.is_some() || sort != "created" {
                return Err(not_here(
                    &schema,
                    "users list --locked/--flagged/--role/--sort",
                    "the library's users are listed by email, with --search",
                ));
            }
            let page = subjects::users_page(db, staff, search.as_deref(), after.as_deref(), *limit).await?;
            if json_out {
                print_json(&page);
                return Ok(true);
            }
            let mut t = Table::new(&["EMAIL", "NAME", "ROLE", "STATUS", "2FA", "CREATED", "ID"]);
            for u in &page.users {
                let status = match (u.banned, u.ban_expires) {
                    (Some(true), Some(until)) => format!("banned until {}", format_ms(until)),
                    (Some(true), None) => "banned".into(),
                    _ if !u.email_verified => "unverified".into(),
                    _ => "ok".into(),
                };
                t.row(vec![
                    u.email.clone(),
                    opt(&u.name),
                    opt(&u.role),
                    status,
                    match u.two_factor {
                        Some(true) => "on",
                        Some(false) => "off",
                        None => "-",
                    }
                    .into(),
                    u.created_at.map(format_ms).unwrap_or_else(|| "-".into()),
                    u.id.clone(),
                ]);
            }
            t.print();
            match &page.next_cursor {
                Some(c) => println!("\nmore: --after {c}"),
                None => println!("\n{} user(s)", page.users.len()),
            }
        }
        Command::Users(UsersCmd::Show { user }) => {
            let d = subjects::detail(db, staff, user, now).await?;
            let ended = subjects::ended_sessions(db, staff, user, 20).await?;
            if json_out {
                print_json(&json!({ "detail": d, "ended_sessions": ended }));
                return Ok(true);
            }
            let u = &d.user;
            println!(
                "{} <{}>  {}  id {}  ({})",
                u.name.as_deref().unwrap_or("-"),
                u.email,
                u.role.as_deref().unwrap_or("-"),
                u.id,
                schema.library.name()
            );
            println!(
                "  created {}   email {}   two-factor {}",
                u.created_at.map(format_ms).unwrap_or_else(|| "-".into()),
                if u.email_verified { "verified" } else { "unverified" },
                match u.two_factor {
                    Some(true) => "on",
                    Some(false) => "off",
                    None => "not in this schema",
                }
            );
            if u.banned == Some(true) {
                println!(
                    "  BANNED{}: {}",
                    u.ban_expires
                        .map(|t| format!(" until {}", format_ms(t)))
                        .unwrap_or_default(),
                    opt(&u.ban_reason)
                );
            }
            println!("  audit log id {}", d.audit_id);
            println!("\nSessions:");
            sessions_table(&d.sessions, now).print();
            println!("\nEnded by Warden:");
            let mut t = Table::new(&["SESSION", "ENDED", "REASON", "IP", "USER AGENT"]);
            for e in &ended {
                let s = &e.session;
                t.row(vec![
                    s.key.clone(),
                    format_ms(e.ended_at),
                    e.reason.clone(),
                    opt(&s.ip),
                    opt(&s.user_agent),
                ]);
            }
            t.print();
        }
        Command::Users(UsersCmd::Ban { user, reason, until }) => {
            let until = until.as_deref().map(|u| parse_until(u, now)).transpose()?;
            let n = subjects::ban(db, staff, user, reason, until, now).await?;
            if json_out {
                print_json(&json!({ "banned": true, "until": until, "sessions_ended": n }));
            } else {
                println!(
                    "{user} is banned{}; {n} session(s) ended.",
                    until.map(|t| format!(" until {}", format_ms(t))).unwrap_or_default()
                );
            }
        }
        Command::Users(UsersCmd::Unban { user, reason }) => {
            subjects::unban(db, staff, user, reason, now).await?;
            if json_out {
                print_json(&json!({ "banned": false }));
            } else {
                println!("{user} may sign in again.");
            }
        }
        Command::Users(UsersCmd::ResetTwoFactor { user, reason }) => {
            let removed = subjects::reset_two_factor(db, staff, user, reason, now).await?;
            if json_out {
                print_json(&json!({ "reset": true, "secret_removed": removed }));
            } else {
                println!(
                    "Two-factor is off for {user}: they sign in with their password alone until they enrol again."
                );
            }
        }
        Command::Users(UsersCmd::Add { .. }) => {
            return Err(not_here(
                &schema,
                "users add",
                "its users sign up through the application; the console's own security admins are made with \
                 `warden adopt --admin-email`",
            ))
        }
        Command::Sessions(SessionsCmd::List {
            filter,
            status,
            sort,
            limit,
            after,
        }) => {
            if sort != "created" {
                return Err(not_here(
                    &schema,
                    "sessions list --sort last-active",
                    "the library records no last activity Warden can rely on; its sessions are listed newest first",
                ));
            }
            let (f, status) = subjects::from_session_filter(&schema, &filter.filter(status)?)?;
            let page = subjects::sessions_page(db, staff, &f, status, after.as_deref(), *limit, now).await?;
            if json_out {
                print_json(&page);
                return Ok(true);
            }
            let mut t = Table::new(&["SESSION", "USER", "CREATED", "EXPIRES", "IP", "USER AGENT"]);
            for r in &page.sessions {
                let s = &r.session;
                t.row(vec![
                    s.key.clone(),
                    r.email.clone().unwrap_or_else(|| s.user_id.clone()),
                    s.created_at.map(format_ms).unwrap_or_else(|| "-".into()),
                    expiry(s.expires_at, now),
                    opt(&s.ip),
                    opt(&s.user_agent),
                ]);
            }
            t.print();
            match &page.next_cursor {
                Some(c) => println!("\nmore: --after '{c}'"),
                None => println!("\n{} session(s)", page.sessions.len()),
            }
        }
        Command::Sessions(SessionsCmd::Count { filter, status }) => {
            let (f, status) = subjects::from_session_filter(&schema, &filter.filter(status)?)?;
            let across = subjects::across(db, staff, &f).await?;
            let (sessions, users) = subjects::count(db, staff, &across, status, now).await?;
            if json_out {
                print_json(&json!({ "sessions": sessions, "users": users }));
            } else {
                println!("{sessions} session(s) of {users} user(s)");
            }
        }
        Command::Sessions(SessionsCmd::Revoke { id, reason, keep_row }) => {
            let s = subjects::revoke_session(db, staff, id, reason, style(*keep_row), now).await?;
            if json_out {
                print_json(&json!({ "revoked": true, "session": s }));
            } else {
                println!("Session {} ended.", s.key);
            }
        }
        Command::Sessions(SessionsCmd::RevokeUser { user, reason, keep_row }) => {
            let n = subjects::revoke_user(db, staff, user, reason, style(*keep_row), now).await?;
            if json_out {
                print_json(&json!({ "revoked": n }));
            } else {
                println!("Ended {n} session(s) of {user}.");
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
            if !ids.is_empty() {
                return Err(not_here(
                    &schema,
                    "sessions bulk-revoke --ids",
                    "end one session with `warden sessions revoke`, or take them by filter",
                ));
            }
            let (f, _) = subjects::from_session_filter(&schema, &filter.filter("active")?)?;
            match (f.is_empty(), everyone) {
                (false, true) => {
                    return Err(Error::invalid(
                        "everyone",
                        "give --everyone or filters (--ip, --user, --created-from/--created-to, --privileged), not both",
                    ))
                }
                (true, false) => {
                    return Err(Error::invalid(
                        "everyone",
                        "say which sessions: --everyone (the emergency sign-out), or filters such as --ip ADDRESS",
                    ))
                }
                _ => {}
            }
            let across = subjects::across(db, staff, &f).await?;
            let (sessions, users) = subjects::count_across(db, staff, &across, now).await?;
            if !yes {
                if json_out {
                    print_json(&json!({ "dry_run": true, "sessions": sessions, "users": users }));
                } else {
                    println!(
                        "Would end {sessions} live session(s) of {users} user(s) in {}'s table. Run again with --yes \
                         to do it.",
                        schema.library.name()
                    );
                }
                return Ok(true);
            }
            let quiet = json_out;
            let done = subjects::end_across(
                db,
                staff,
                &across,
                reason,
                batch_size.unwrap_or(1_000),
                now,
                |ended, of| {
                    if !quiet {
                        eprintln!("  {ended} of {of} ended");
                    }
                },
                || false,
            )
            .await?;
            if json_out {
                print_json(&done);
            } else {
                println!(
                    "Ended {} session(s) in {} batch(es); each batch and the run are in the audit log.",
                    done.ended, done.batches
                );
            }
        }
        Command::Sessions(SessionsCmd::BulkStatus { .. }) => {
            return Err(not_here(
                &schema,
                "sessions bulk-status",
                "its bulk ends run in audited batches, each in the audit log: `warden audit list --action session.bulk_batch`",
            ))
        }
        Command::Enforce { every, batch_size } => {
            let every = every
                .as_deref()
                .map(|e| match Duration::parse(e) {
                    Some(d) if d.as_millis() >= 1_000 => Ok(std::time::Duration::from_millis(d.as_millis() as u64)),
                    _ => Err(Error::invalid(
                        "every",
                        "must be a span of at least one second, such as 30s, 1m or 1h",
                    )),
                })
                .transpose()?;
            loop {
                let now = chrono::Utc::now().timestamp_millis();
                let done = subjects::enforce(db, staff, now, *batch_size).await?;
                if json_out {
                    println!("{}", serde_json::to_string(&done).unwrap_or_default());
                } else {
                    println!(
                        "{}: policy v{} (session.max_lifetime {}, the application's admins {}): ended {} session(s) past \
                         it, brought {} expiry(ies) forward to it.",
                        format_ms(now),
                        done.policy_version,
                        Duration::from_secs((done.max_lifetime_ms.max(0) / 1000) as u64),
                        Duration::from_secs((done.privileged_max_lifetime_ms.max(0) / 1000) as u64),
                        done.ended,
                        done.shortened
                    );
                }
                match every {
                    Some(d) => tokio::time::sleep(d).await,
                    None => break,
                }
            }
        }
        Command::Unlock { .. } => {
            return Err(not_here(
                &schema,
                "unlock",
                "lockout is Warden's own engine's, and the application's sign-ins do not go through it; ban and \
                 unban with `warden users ban`",
            ))
        }
        Command::Bench(args) => crate::bench::run_library(db, actor, args, json_out).await?,
        _ => return Ok(false),
    }
    Ok(true)
}
