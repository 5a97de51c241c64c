//! `warden bench`: measures the engine on the database it is pointed at — session validation (no write
//! due, and with refresh), the users page and the audit page at the first and a deep position, with and
//! without filters, one user's timeline (of an account with thousands of sessions, which the bench adds
//! once as `busy-bench@warden.demo`) and the overview. Figures go in docs/PERFORMANCE.md; nothing here
//! asserts a time.

use std::time::Instant;

use clap::Args;
use serde::Serialize;
use warden_core::model::authz::Admin;
use warden_core::model::clock::DAY;
use warden_core::model::session_filter::SessionFilter;
use warden_core::ops::admin::{self, SessionQuery, SessionSort, UserQuery, UserSort};
use warden_core::ops::audit::{self, AuditFilter};
use warden_core::ops::sessions::{self, ClientInfo};
use warden_core::ops::subjects::{self, Across, RevokeStyle, SubjectSessionFilter, SubjectSessionStatus};
use warden_core::ops::{library, overview, timeline};
use warden_core::{Clock, Db, Result, Secret, SystemClock};

/// The heavy account whose timeline is measured.
const BUSY_EMAIL: &str = "busy-bench@warden.demo";

/// The account of the Better Auth demo with a thousand live sessions.
const BUSY_LIBRARY_EMAIL: &str = "busy@example.test";

#[derive(Args)]
pub struct BenchArgs {
    /// Iterations per measurement
    #[arg(long, default_value_t = 200)]
    iterations: u32,
    /// Sessions created (by signing in the demo support user) for the validation benchmark
    #[arg(long, default_value_t = 20)]
    sessions: u32,
    /// Sessions of the heavy account whose timeline is measured (made on the first run only)
    #[arg(long, default_value_t = 5_000)]
    busy_sessions: u32,
    /// On an adopted library's database: also time ending every live session (the emergency sign-out),
    /// once. It ends them for good: for a demo database only
    #[arg(long)]
    emergency: bool,
}

#[derive(Serialize)]
struct Figure {
    name: String,
    n: usize,
    p50_us: u128,
    p95_us: u128,
    p99_us: u128,
}

fn figure(name: &str, mut samples: Vec<u128>) -> Figure {
    samples.sort_unstable();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Figure {
        name: name.into(),
        n: samples.len(),
        p50_us: pick(0.50),
        p95_us: pick(0.95),
        p99_us: pick(0.99),
    }
}

async fn time<F, Fut>(iterations: u32, mut f: F) -> Result<Vec<u128>>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut out = Vec::with_capacity(iterations as usize);
    for i in 0..iterations {
        let t = Instant::now();
        f(i).await?;
        out.push(t.elapsed().as_micros());
    }
    Ok(out)
}

pub async fn run(db: &Db, actor: &Admin, args: BenchArgs, json: bool) -> Result<()> {
    let clock = SystemClock;
    let now = clock.now();
    let n = args.iterations.max(10);
    let mut figures = Vec::new();

    // Tokens to validate: fresh sessions of ordinary demo users (their password is the shared demo one).
    let page = admin::users_page(
        db,
        actor,
        &UserQuery {
            role: Some(warden_core::Role::User),
            locked: Some(false),
            limit: args.sessions.clamp(1, 500),
            ..Default::default()
        },
        now,
    )
    .await?;
    let mut tokens: Vec<Secret> = Vec::new();
    for u in &page.users {
        if u.user.totp_enabled || u.user.disabled {
            continue;
        }
        let info = ClientInfo {
            ip: Some("127.0.0.1".into()),
            user_agent: Some("warden-bench".into()),
            client: Some("bench".into()),
            ..Default::default()
        };
        if let Ok(warden_core::ops::auth::SignIn::Complete { token, .. }) = warden_core::ops::auth::sign_in(
            db,
            clock.now(),
            &u.user.email,
            &Secret::new(warden_demo::USER_PASSWORD),
            &info,
        )
        .await
        {
            tokens.push(token);
        }
    }
    if !tokens.is_empty() {
        let info = ClientInfo {
            ip: Some("127.0.0.1".into()),
            ..Default::default()
        };
        // Warm: the first validation after sign-in writes nothing (no refresh or last-seen update due).
        let samples = time(n, |i| {
            let tok = tokens[i as usize % tokens.len()].clone();
            let info = info.clone();
            async move { sessions::validate(db, clock.now(), &tok, &info).await.map(|_| ()) }
        })
        .await?;
        figures.push(figure("validate session (no write due)", samples));
        let samples = time(n, |_| async {
            sessions::validate(
                db,
                clock.now(),
                &Secret::new("not-a-real-token-000000000000000000000000000"),
                &info,
            )
            .await
            .err()
            .map(|_| ())
            .ok_or_else(|| warden_core::Error::Unexpected("garbage validated".into()))
        })
        .await?;
        figures.push(figure("validate unknown token", samples));
    }

    let users_first = UserQuery {
        limit: 50,
        ..Default::default()
    };
    figures.push(figure(
        "users page 1 (50, by created)",
        time(n, |_| async {
            admin::users_page(db, actor, &users_first, now).await.map(|_| ())
        })
        .await?,
    ));
    // A deep position: walk 20 pages in, then time the next page.
    let mut deep = UserQuery {
        limit: 500,
        ..Default::default()
    };
    for _ in 0..20 {
        match admin::users_page(db, actor, &deep, now).await?.next_cursor {
            Some(c) => deep.after = Some(c),
            None => break,
        }
    }
    deep.limit = 50;
    figures.push(figure(
        "users page deep (~10k in, 50)",
        time(n, |_| async {
            admin::users_page(db, actor, &deep, now).await.map(|_| ())
        })
        .await?,
    ));
    let search = UserQuery {
        search: Some("ana.s".into()),
        limit: 50,
        ..Default::default()
    };
    figures.push(figure(
        "users search 'ana.s' (50)",
        time(n, |_| async {
            admin::users_page(db, actor, &search, now).await.map(|_| ())
        })
        .await?,
    ));
    // Search as it is typed: one request per prefix (the console debounces, so this is the worst case).
    for term in ["e", "em", "emm", "emma", "emma.s"] {
        let q = UserQuery {
            search: Some(term.into()),
            limit: 50,
            ..Default::default()
        };
        figures.push(figure(
            &format!("users search as typed '{term}' (50)"),
            time(n, |_| async { admin::users_page(db, actor, &q, now).await.map(|_| ()) }).await?,
        ));
    }
    let locked = UserQuery {
        locked: Some(true),
        sort: UserSort::LastActive,
        limit: 50,
        ..Default::default()
    };
    figures.push(figure(
        "users locked, by last active (50)",
        time(n, |_| async {
            admin::users_page(db, actor, &locked, now).await.map(|_| ())
        })
        .await?,
    ));

    // The sessions screen: active sessions newest first, by last activity, a rare filter, and the count.
    for (name, filter, sort) in [
        (
            "sessions active page 1 (50)",
            SessionFilter::default(),
            SessionSort::Created,
        ),
        (
            "sessions active by last active (50)",
            SessionFilter::default(),
            SessionSort::LastActive,
        ),
        (
            "sessions active, country DE + tablet (50)",
            SessionFilter {
                country: Some("DE".into()),
                device: Some("tablet".into()),
                ..Default::default()
            },
            SessionSort::Created,
        ),
        (
            "sessions active in 52.0.0.0/8 (50)",
            SessionFilter {
                ip: Some("52.0.0.0/8".into()),
                ..Default::default()
            },
            SessionSort::Created,
        ),
    ] {
        let q = SessionQuery {
            filter,
            sort,
            after: None,
            limit: 50,
        };
        figures.push(figure(
            name,
            time(n, |_| async {
                admin::sessions_page(db, actor, &q, now).await.map(|_| ())
            })
            .await?,
        ));
    }
    let country = SessionFilter {
        country: Some("DE".into()),
        ..Default::default()
    };
    figures.push(figure(
        "count active sessions in DE",
        time(n.min(5), |_| async {
            admin::count_sessions(db, actor, &country, now).await.map(|_| ())
        })
        .await?,
    ));

    let all = AuditFilter::default();
    figures.push(figure(
        "audit page 1 (50)",
        time(n, |_| async {
            audit::list(db, actor, &all, None, 50).await.map(|_| ())
        })
        .await?,
    ));
    let head = audit::list(db, actor, &all, None, 1)
        .await?
        .events
        .first()
        .map(|e| e.seq)
        .unwrap_or(0);
    let middle = Some(head / 2);
    figures.push(figure(
        "audit page at the middle (50)",
        time(n, |_| async {
            audit::list(db, actor, &all, middle, 50).await.map(|_| ())
        })
        .await?,
    ));
    let failures = AuditFilter {
        action: Some("auth.".into()),
        status: Some(audit::Status::Failure),
        ..Default::default()
    };
    figures.push(figure(
        "audit failed sign-ins, middle (50)",
        time(n, |_| async {
            audit::list(db, actor, &failures, middle, 50).await.map(|_| ())
        })
        .await?,
    ));

    // One user's timeline, for an account with thousands of sessions (added on the first run, reused on
    // later ones), and the overview screen.
    let busy = warden_demo::busy_user(db, BUSY_EMAIL, args.busy_sessions, now, 42).await?;
    for (name, span) in [
        ("user timeline, last 24 h", DAY),
        ("user timeline, last 7 days", 7 * DAY),
        ("user timeline, last 90 days", 90 * DAY),
    ] {
        let tl = timeline::user_timeline(db, actor, busy, now - span, now, now).await?;
        figures.push(figure(
            &format!("{name} ({} bars, {} marks)", tl.sessions.len(), tl.marks.len()),
            time(n, |_| async {
                timeline::user_timeline(db, actor, busy, now - span, now, now)
                    .await
                    .map(|_| ())
            })
            .await?,
        ));
    }
    figures.push(figure(
        "overview",
        time(n.min(50), |_| async {
            overview::overview(db, actor, now).await.map(|_| ())
        })
        .await?,
    ));

    // Clean up the bench's own sessions.
    for t in &tokens {
        if let Ok(me) = sessions::validate(db, clock.now(), t, &ClientInfo::default()).await {
            let _ = sessions::sign_out(db, clock.now(), &me).await;
        }
    }

    print(db, &figures, n, json);
    Ok(())
}

/// The figures, as a table or JSON.
fn print(db: &Db, figures: &[Figure], n: u32, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(&figures).unwrap_or_default());
    } else {
        println!(
            "{} on {} ({} iterations each)",
            db.backend().name(),
            chrono::Utc::now().format("%Y-%m-%d"),
            n
        );
        println!(
            "{:<40} {:>10} {:>10} {:>10}",
            "MEASUREMENT", "p50 µs", "p95 µs", "p99 µs"
        );
        for f in figures {
            println!("{:<40} {:>10} {:>10} {:>10}", f.name, f.p50_us, f.p95_us, f.p99_us);
        }
    }
}

/// On a library's database that Warden adopted (`warden demo --schema better-auth` makes one): the users
/// page at the first and a deep position and with a search, the page of an account with a thousand
/// sessions, then — once each, since they end sessions for good — signing that account out everywhere
/// and, with `--emergency`, signing everyone out.
pub async fn run_library(db: &Db, actor: &Admin, args: &BenchArgs, json: bool) -> Result<()> {
    let now = SystemClock.now();
    let n = args.iterations.max(10);
    let mut figures = Vec::new();
    let users = library::describe(db, now).await?.map(|i| i.users).unwrap_or(0);
    figures.push(figure(
        &format!("users page, first 100 (of {users})"),
        time(n, |_| async {
            subjects::users_page(db, actor, None, None, 100).await.map(|_| ())
        })
        .await?,
    ));
    // Keyset paging by email: the last page of the demo's emails is as deep as it goes.
    figures.push(figure(
        "users page, 100 after user99999@…",
        time(n, |_| async {
            subjects::users_page(db, actor, None, Some("user99999@example.test"), 100)
                .await
                .map(|_| ())
        })
        .await?,
    ));
    figures.push(figure(
        "users search \"user12345\"",
        time(n, |_| async {
            subjects::users_page(db, actor, Some("user12345"), None, 100)
                .await
                .map(|_| ())
        })
        .await?,
    ));
    figures.push(figure(
        "users search \"user12345@example.test\"",
        time(n, |_| async {
            subjects::users_page(db, actor, Some("user12345@example.test"), None, 100)
                .await
                .map(|_| ())
        })
        .await?,
    ));
    let live = SubjectSessionFilter::default();
    let status = SubjectSessionStatus::Live;
    // The sessions across users are ordered by when they began, which the library's table has no index
    // on (Warden adds none to it): these read every live session, so they run fewer times.
    figures.push(figure(
        "sessions page, first 100 live",
        time(n.min(20), |_| async {
            subjects::sessions_page(db, actor, &live, status, None, 100, now)
                .await
                .map(|_| ())
        })
        .await?,
    ));
    // A deep position: the cursor after the first 10,000 live sessions, walked to once.
    let mut cursor = None;
    for _ in 0..20 {
        let page = subjects::sessions_page(db, actor, &live, status, cursor.as_deref(), 500, now).await?;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    figures.push(figure(
        "sessions page, 100 live after 10,000",
        time(n.min(20), |_| async {
            subjects::sessions_page(db, actor, &live, status, cursor.as_deref(), 100, now)
                .await
                .map(|_| ())
        })
        .await?,
    ));
    let first_ip = subjects::sessions_page(db, actor, &live, status, None, 1, now)
        .await?
        .sessions
        .first()
        .and_then(|r| r.session.ip.clone());
    if let Some(ip) = first_ip {
        let one = SubjectSessionFilter {
            ip: Some(ip),
            ..SubjectSessionFilter::default()
        };
        figures.push(figure(
            "sessions page, one address",
            time(n.min(20), |_| async {
                subjects::sessions_page(db, actor, &one, status, None, 100, now)
                    .await
                    .map(|_| ())
            })
            .await?,
        ));
    }
    figures.push(figure(
        "overview",
        time(n.min(20), |_| async {
            subjects::overview(db, actor, now).await.map(|_| ())
        })
        .await?,
    ));
    let busy = subjects::detail(db, actor, BUSY_LIBRARY_EMAIL, now).await?;
    figures.push(figure(
        &format!("user page ({} live sessions)", busy.sessions.len()),
        time(n.min(50), |_| async {
            subjects::detail(db, actor, BUSY_LIBRARY_EMAIL, now).await.map(|_| ())
        })
        .await?,
    ));
    let t = Instant::now();
    let ended = subjects::revoke_user(db, actor, BUSY_LIBRARY_EMAIL, "benchmark", RevokeStyle::Delete, now).await?;
    figures.push(figure(
        &format!("sign out everywhere ({ended} sessions)"),
        vec![t.elapsed().as_micros()],
    ));
    if args.emergency {
        let t = Instant::now();
        let done = subjects::end_across(
            db,
            actor,
            &Across::everyone(),
            "benchmark",
            5_000,
            now,
            |_, _| {},
            || false,
        )
        .await?;
        let us = t.elapsed().as_micros();
        figures.push(figure(
            &format!(
                "emergency sign-out ({} sessions, {}/s)",
                done.ended,
                (done.ended as u128 * 1_000_000).checked_div(us).unwrap_or(0)
            ),
            vec![us],
        ));
    }
    print(db, &figures, n, json);
    Ok(())
}
