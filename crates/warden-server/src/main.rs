//! `warden-server`: reads its configuration, opens the database, and serves the API until SIGTERM or
//! Ctrl-C, letting requests in flight finish.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use warden_core::rules::totp::{DataKey, DATA_KEY_ENV, DATA_KEY_FILE_ENV};
use warden_core::{Db, SystemClock};
use warden_server::config::LogFormat;
use warden_server::{mail, AppState, Args};

fn main() -> ExitCode {
    let cfg = match Args::parse().resolve() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("warden-server: {msg}");
            return ExitCode::from(2);
        }
    };
    let filter = match EnvFilter::try_new(&cfg.log) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("warden-server: log filter `{}`: {e}", cfg.log);
            return ExitCode::from(2);
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cfg.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("warden-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            tracing::error!("{msg}");
            eprintln!("warden-server: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cfg: warden_server::ServerConfig) -> Result<(), String> {
    let db = Db::open(&cfg.db)
        .await
        .map_err(|e| e.to_string())?
        .with_hash_limits(cfg.hashes);
    let key_set = [DATA_KEY_ENV, DATA_KEY_FILE_ENV]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.trim().is_empty()));
    let key = if key_set {
        let key = DataKey::from_env().map_err(|e| e.to_string())?;
        warden_core::ops::auth::check_key(&db, &key)
            .await
            .map_err(|e| e.to_string())?;
        Some(Arc::new(key))
    } else {
        tracing::warn!("no data key ({DATA_KEY_ENV} / {DATA_KEY_FILE_ENV}): the two-factor endpoints answer 503");
        None
    };
    let mailer = match &cfg.mail {
        Some(m) => Some(mail::Mailer::new(m, &cfg.public_url)?),
        None => {
            tracing::warn!("no SMTP server (--smtp-url): sign-up sends no verification email");
            None
        }
    };
    let listener = tokio::net::TcpListener::bind(cfg.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        %addr,
        database = db.backend().name(),
        dev = cfg.dev,
        origins = %cfg.origins.join(","),
        "warden-server listening on {addr}"
    );
    let limits = cfg.limits;
    let state = AppState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        cfg: Arc::new(cfg),
        key,
        mailer,
        limits,
    };
    warden_server::serve(listener, state, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tracing::info!("shut down");
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
