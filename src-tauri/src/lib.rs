//! Warden's desktop console: the Tauri shell. Each command translates its input, calls one warden-core
//! function and maps the result; no business rule lives here. The console's own sign-in is a real
//! privileged session in the connected database, validated on every command, so the privileged policy
//! (idle timeout, re-authentication) applies to the operator exactly as to anyone else.

mod connections;
pub mod types;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tokio::sync::Mutex;
use warden_core::model::authz::Permission;
use warden_core::model::error::ErrorCode;
use warden_core::model::session_filter::SessionFilter;
use warden_core::ops::admin::{self, SessionCount, SessionQuery, SessionsPage, UserDetail, UserQuery, UsersPage};
use warden_core::ops::audit::{self, AuditPage, Verification};
use warden_core::ops::audit_query::{self, AuditFilterInput, AuditProgress, AuditQuery, ExportReport};
use warden_core::ops::auth::{self, SignIn};
use warden_core::ops::bulk::{self, BulkPlan, BulkProgress, BulkRequest, BulkSummary};
use warden_core::ops::export::ExportFormat;
use warden_core::ops::flags::{self, FlagQuery, FlagView, FlagsPage, Resolution};
use warden_core::ops::overview::{self, Overview};
use warden_core::ops::policy as policy_store;
use warden_core::ops::policy::{PolicyForm, PolicyPreview, PolicyUpdate, PolicyVersionView};
use warden_core::ops::sessions::{self, Authenticated, ClientInfo};
use warden_core::ops::subjects::{
    self, Across, BulkEnded, RevokeStyle, SubjectOverview, SubjectSessionFilter, SubjectSessionStatus,
    SubjectSessionsPage, SubjectUsersPage,
};
use warden_core::ops::timeline::{self, UserTimeline};
use warden_core::ops::users::UserView;
use warden_core::rules::totp::DataKey;
use warden_core::{Clock, Db, Error, Secret, SystemClock};
use warden_demo as demo;

use types::*;

/// The console's state: the open database and the operator's session on it.
#[derive(Default)]
pub struct Console(Mutex<Inner>, BulkRun, Opening);

/// The database being opened, which Cancel on the connect screen stops waiting for (one at a time).
#[derive(Default)]
struct Opening(std::sync::Mutex<Option<Arc<tokio::sync::Notify>>>);

impl Opening {
    /// Runs `open` until it finishes or `cancel` is called: then `open` is dropped, which hangs up a
    /// connection still being made, and the answer is `Error::Cancelled`.
    async fn run<T>(&self, open: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let stop = Arc::new(tokio::sync::Notify::new());
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop.clone());
        let result = tokio::select! {
            r = open => r,
            () = stop.notified() => Err(Error::Cancelled),
        };
        let mut current = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &stop)) {
            *current = None;
        }
        result
    }

    /// Stops the open in progress; false when there is none.
    fn cancel(&self) -> bool {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(stop) => {
                // A permit is kept if the open has not begun waiting yet.
                stop.notify_one();
                true
            }
            None => false,
        }
    }
}

/// The cancel flag of the bulk termination in progress (one at a time per console).
#[derive(Default)]
struct BulkRun(std::sync::Mutex<Option<Arc<AtomicBool>>>);

#[derive(Default)]
struct Inner {
    conn: Option<Conn>,
    /// The operator's session token (held in memory only).
    token: Option<Secret>,
    /// The email of the last sign-in, for the lock screen.
    email: Option<String>,
    /// The pending second step of a sign-in.
    challenge: Option<Secret>,
}

struct Conn {
    db: Db,
    key: Option<DataKey>,
}

fn now() -> i64 {
    SystemClock.now()
}

fn client_info() -> ClientInfo {
    ClientInfo {
        ip: None,
        user_agent: Some(format!(
            "Warden Console/{} ({})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS
        )),
        country: None,
        city: None,
        client: Some("console".into()),
    }
}

/// Where the console keeps its files: `WARDEN_CONSOLE_DATA_DIR` when set (tests, portable use), else the
/// OS's application data folder.
fn data_dir(app: &AppHandle) -> Result<PathBuf, Error> {
    let dir = match std::env::var_os("WARDEN_CONSOLE_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => app
            .path()
            .app_data_dir()
            .map_err(|e| Error::Unexpected(format!("no data folder: {e}")))?,
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::Unexpected(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

fn set_title(app: &AppHandle, label: Option<&str>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_title(&match label {
            Some(l) => format!("Warden — {l}"),
            None => "Warden".into(),
        });
    }
}

fn no_connection() -> CommandError {
    CommandError {
        code: ErrorCode::NotConnected,
        message: "Connect to a database first.".into(),
        field: None,
    }
}

/// The open database and the operator, validated now (an idle or ended session answers `unauthenticated`).
async fn operator(inner: &Inner) -> CommandResult<(Db, Authenticated)> {
    let conn = inner.conn.as_ref().ok_or_else(no_connection)?;
    let token = inner.token.as_ref().ok_or(Error::Unauthenticated)?;
    let me = sessions::validate(&conn.db, now(), token, &client_info()).await?;
    Ok((conn.db.clone(), me))
}

async fn me_of(db: &Db, a: &Authenticated) -> CommandResult<Me> {
    let (_, policy) = policy_store::current(db).await?;
    let role = a.user.role();
    Ok(Me {
        user_id: a.user.id.to_string(),
        email: a.user.email.clone(),
        name: a.user.name.clone(),
        role,
        session_id: a.session.id.to_string(),
        authenticated_at: a.session.authenticated_at,
        reauth_after_ms: policy.privileged.reauth_after.as_millis(),
        idle_timeout_ms: policy.session_limits(a.session.privileged).idle_timeout.as_millis(),
        can: Capabilities {
            unlock: role.allows(Permission::UnlockUser),
            revoke_sessions: role.allows(Permission::RevokeUserSessions),
            reset_totp: role.allows(Permission::ResetTotp),
            view_policy: role.allows(Permission::ChangePolicy),
            bulk_revoke: role.allows(Permission::BulkRevokeSessions),
            view_audit: role.allows(Permission::ViewAudit),
            export_audit: role.allows(Permission::VerifyAudit),
            review_flags: role.allows(Permission::ReviewFlags),
        },
    })
}

#[tauri::command]
async fn app_info(app: AppHandle) -> CommandResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        saved: connections::views(&app)?,
        keyring: connections::keyring_status(),
    })
}

/// Opens the demo database in the data folder, creating and filling it on first use. Its credentials and
/// data key live beside it (demo data only), so the demo signs in with two-factor out of the box.
#[tauri::command]
async fn open_demo(app: AppHandle, console: State<'_, Console>) -> CommandResult<Connected> {
    let dir = data_dir(&app)?;
    let path = dir.join("demo.db");
    let creds_path = dir.join("demo-credentials.json");
    let url = format!("sqlite://{}", path.display());
    if !path.exists() || !creds_path.exists() {
        let _ = std::fs::remove_file(&path);
        let db = Db::connect(&url, true).await?;
        let users = std::env::var("WARDEN_DEMO_USERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        // A seed of its own per installation, so no two demo databases share their demo passwords.
        let seed = now() as u64 ^ u64::from(std::process::id()).rotate_left(32);
        let report = demo::generate(
            &db,
            &demo::DemoOptions {
                users,
                seed,
                now: now(),
            },
            |_| {},
        )
        .await?;
        db.close().await;
        let body = serde_json::to_vec_pretty(&report).map_err(|e| Error::Unexpected(e.to_string()))?;
        std::fs::write(&creds_path, body)
            .map_err(|e| Error::Unexpected(format!("cannot write {}: {e}", creds_path.display())))?;
    }
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&creds_path)
            .map_err(|e| Error::Unexpected(format!("cannot read {}: {e}", creds_path.display())))?,
    )
    .map_err(|e| Error::Unexpected(format!("demo credentials: {e}")))?;
    let field = |k: &str| report[k].as_str().unwrap_or_default().to_owned();
    let key = DataKey::parse(&field("data_key"))?;
    let db = Db::open(&url).await?;
    let demo = DemoCredentials {
        admin_email: field("admin_email"),
        admin_password: field("admin_password"),
        admin_totp_secret: field("admin_totp_secret"),
        support_email: field("support_email"),
        support_password: field("support_password"),
    };
    let display = path.display().to_string();
    Ok(connect(
        &app,
        &console,
        db,
        Some(key),
        "Demo database".into(),
        display,
        Some(demo),
    )
    .await)
}

/// Makes `db` the console's connection (closing the previous one and forgetting its sign-in), titles
/// the window after it, and describes it for the UI.
async fn connect(
    app: &AppHandle,
    console: &State<'_, Console>,
    db: Db,
    key: Option<DataKey>,
    label: String,
    display: String,
    demo: Option<DemoCredentials>,
) -> Connected {
    let connected = Connected {
        label,
        backend: db.backend().name().into(),
        display,
        demo,
        library: library_info(&db).await,
    };
    let mut inner = console.0.lock().await;
    if let Some(old) = inner.conn.take() {
        old.db.close().await;
    }
    set_title(app, Some(&connected.label));
    *inner = Inner {
        conn: Some(Conn { db, key }),
        token: None,
        email: None,
        challenge: None,
    };
    connected
}

/// What the screens need to know of an adopted library's database; `None` on Warden's own schema (or
/// when its counts cannot be read, which the first screen then says itself).
async fn library_info(db: &Db) -> Option<LibraryInfo> {
    let i = warden_core::ops::library::describe(db, now()).await.ok()??;
    let has = |key: &str| i.capabilities.iter().any(|c| c.key == key && c.available);
    Some(LibraryInfo {
        name: i.schema.library.name().into(),
        summary: i.summary(),
        ban: has("ban"),
        two_factor: has("two_factor"),
        session_place: has("session_place"),
        session_start: has("session_start"),
        admin_role: i
            .schema
            .table(warden_core::model::library::TableRole::User)
            .is_some_and(|t| t.columns.has("role")),
        missing: i
            .capabilities
            .iter()
            .filter(|c| !c.available)
            .filter_map(|c| c.note.as_ref().map(|n| format!("No {}: {n}.", c.what)))
            .collect(),
        notes: i.notes.clone(),
    })
}

/// Opens a database by URL: with `create_schema`, an empty database gets the Warden schema; otherwise an
/// empty one answers `schema_missing` so the UI can offer to create it.
async fn open_url(url: &str, password: Option<&Secret>, create_schema: bool) -> Result<Db, Error> {
    let db = Db::connect_with(url, password, false).await?;
    if create_schema {
        db.migrate().await?;
    }
    match db.schema_state().await? {
        warden_core::store::SchemaState::Current => Ok(db),
        _ => {
            db.close().await;
            Db::open_with(url, password).await
        }
    }
}

/// A data key typed on the connect screen, checked before anything is opened.
fn typed_key(data_key: Option<String>) -> Result<Option<DataKey>, Error> {
    match data_key.filter(|k| !k.trim().is_empty()) {
        Some(k) => DataKey::parse(&k)
            .map(Some)
            .map_err(|e| Error::invalid("dataKey", e.to_string())),
        None => Ok(None),
    }
}

/// The deployment's data key: the one typed (kept in the keyring with a remembered connection), else the
/// keyring's for a saved connection, else WARDEN_DATA_KEY (or WARDEN_DATA_KEY_FILE). Without it,
/// two-factor codes cannot be checked; everything else works.
fn data_key_for(typed: Option<DataKey>, saved_id: Option<&str>) -> Option<DataKey> {
    if let (Some(k), Some(id)) = (&typed, saved_id) {
        let _ = connections::set_secret(id, "data-key", &k.to_base64());
    }
    typed
        .or_else(|| {
            saved_id
                .and_then(|id| connections::get_secret(id, "data-key"))
                .and_then(|k| DataKey::parse(k.expose()).ok())
        })
        .or_else(|| DataKey::from_env().ok())
}

#[tauri::command]
async fn open_sqlite(
    app: AppHandle,
    console: State<'_, Console>,
    path: String,
    create_schema: bool,
    save: bool,
    data_key: Option<String>,
) -> CommandResult<Connected> {
    let typed = typed_key(data_key)?;
    let p = path.trim();
    if p.is_empty() {
        return Err(Error::invalid("path", "choose a SQLite file").into());
    }
    if !std::path::Path::new(p).is_file() {
        return Err(Error::invalid("path", format!("no file at {p}")).into());
    }
    let url = format!("sqlite://{p}");
    let db = console.2.run(open_url(&url, None, create_schema)).await?;
    let label = std::path::Path::new(p)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.into());
    let saved = if save {
        Some(connections::save(&app, "sqlite", &url, &label, None)?)
    } else {
        None
    };
    let key = data_key_for(typed, saved.as_ref().map(|s| s.id.as_str()));
    Ok(connect(&app, &console, db, key, label, p.into(), None).await)
}

#[tauri::command]
async fn open_postgres(
    app: AppHandle,
    console: State<'_, Console>,
    url: String,
    password: Option<String>,
    create_schema: bool,
    save: bool,
    data_key: Option<String>,
) -> CommandResult<Connected> {
    let typed = typed_key(data_key)?;
    let url = url.trim().to_owned();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::invalid(
            "url",
            "must start with postgres:// (e.g. postgres://warden@db.example:5432/auth)",
        )
        .into());
    }
    let pw = password.map(Secret::new);
    let db = console
        .2
        .run(open_url(&url, pw.as_ref(), create_schema))
        .await
        .map_err(|e| match e {
            Error::DatabaseUrl(m) => Error::invalid("url", m),
            other => other,
        })?;
    let display = warden_core::store::redact(&url);
    let label = display
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("PostgreSQL")
        .to_owned();
    let saved = if save {
        Some(connections::save(&app, "postgres", &display, &label, pw.as_ref())?)
    } else {
        None
    };
    let key = data_key_for(typed, saved.as_ref().map(|s| s.id.as_str()));
    Ok(connect(&app, &console, db, key, label, display, None).await)
}

#[tauri::command]
async fn open_saved(
    app: AppHandle,
    console: State<'_, Console>,
    id: String,
    password: Option<String>,
    create_schema: bool,
    data_key: Option<String>,
) -> CommandResult<Connected> {
    let typed = typed_key(data_key)?;
    let saved = connections::list(&app)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| Error::invalid("id", "no saved connection with this id"))?;
    let pw = password
        .filter(|p| !p.is_empty())
        .map(Secret::new)
        .or_else(|| connections::get_secret(&saved.id, "password"));
    let db = console.2.run(open_url(&saved.url, pw.as_ref(), create_schema)).await?;
    let display = warden_core::store::redact(&saved.url);
    let key = data_key_for(typed, Some(&saved.id));
    Ok(connect(&app, &console, db, key, saved.label, display, None).await)
}

/// Stops waiting for the database being opened (Cancel on the connect screen).
#[tauri::command]
async fn cancel_connect(console: State<'_, Console>) -> CommandResult<bool> {
    Ok(console.2.cancel())
}

#[tauri::command]
async fn forget_connection(app: AppHandle, id: String) -> CommandResult<()> {
    Ok(connections::forget(&app, &id)?)
}

#[tauri::command]
async fn disconnect(app: AppHandle, console: State<'_, Console>) -> CommandResult<()> {
    let mut inner = console.0.lock().await;
    if let (Some(conn), Some(token)) = (&inner.conn, &inner.token) {
        if let Ok(me) = sessions::validate(&conn.db, now(), token, &client_info()).await {
            let _ = sessions::sign_out(&conn.db, now(), &me).await;
        }
    }
    if let Some(conn) = inner.conn.take() {
        conn.db.close().await;
    }
    *inner = Inner::default();
    set_title(&app, None);
    Ok(())
}

/// Opens the operator's session after a complete sign-in; the console is for support and security admins.
async fn complete_sign_in(inner: &mut Inner, db: &Db, token: Secret) -> CommandResult<Me> {
    let me = sessions::validate(db, now(), &token, &client_info()).await?;
    if !me.user.role().is_privileged() {
        let _ = sessions::sign_out(db, now(), &me).await;
        return Err(Error::Forbidden("the console is for support staff and security admins".into()).into());
    }
    inner.email = Some(me.user.email.clone());
    inner.token = Some(token);
    inner.challenge = None;
    me_of(db, &me).await
}

#[tauri::command]
async fn sign_in(console: State<'_, Console>, email: String, password: String) -> CommandResult<SignInStep> {
    let mut inner = console.0.lock().await;
    let db = inner.conn.as_ref().ok_or_else(no_connection)?.db.clone();
    match auth::sign_in(&db, now(), &email, &Secret::new(password), &client_info()).await? {
        SignIn::Complete { token, .. } => Ok(SignInStep::Complete {
            me: complete_sign_in(&mut inner, &db, token).await?,
        }),
        SignIn::TotpRequired { challenge } => {
            inner.challenge = Some(challenge);
            inner.email = Some(email.trim().to_lowercase());
            Ok(SignInStep::TotpRequired)
        }
    }
}

fn key_of(inner: &Inner) -> CommandResult<DataKey> {
    inner.conn.as_ref().ok_or_else(no_connection)?.key.clone().ok_or_else(|| {
        Error::DataKey("this database's data key is not known to the console: set WARDEN_DATA_KEY (or WARDEN_DATA_KEY_FILE) before starting Warden to check two-factor codes".into()).into()
    })
}

#[tauri::command]
async fn sign_in_totp(console: State<'_, Console>, code: String) -> CommandResult<Me> {
    let mut inner = console.0.lock().await;
    let db = inner.conn.as_ref().ok_or_else(no_connection)?.db.clone();
    let challenge = inner.challenge.clone().ok_or(Error::InvalidToken)?;
    let key = key_of(&inner)?;
    let (_, token) = auth::sign_in_totp(&db, now(), &key, &challenge, &code, &client_info()).await?;
    complete_sign_in(&mut inner, &db, token).await
}

/// The lock screen and the "fresh sign-in needed" dialog: re-proves the operator on a live session, or
/// signs them in again when the session has ended (idle, expired).
#[tauri::command]
async fn reauthenticate(console: State<'_, Console>, password: String, code: Option<String>) -> CommandResult<Me> {
    let mut inner = console.0.lock().await;
    let db = inner.conn.as_ref().ok_or_else(no_connection)?.db.clone();
    let key = inner.conn.as_ref().and_then(|c| c.key.clone());
    let pw = Secret::new(password);
    let code = code.filter(|c| !c.trim().is_empty());
    if let Ok((_, me)) = operator(&inner).await {
        auth::reauthenticate(&db, now(), key.as_ref(), &me, &pw, code.as_deref(), &client_info()).await?;
        let me = sessions::validate(
            &db,
            now(),
            inner.token.as_ref().ok_or(Error::Unauthenticated)?,
            &client_info(),
        )
        .await?;
        return me_of(&db, &me).await;
    }
    let email = inner.email.clone().ok_or(Error::Unauthenticated)?;
    match auth::sign_in(&db, now(), &email, &pw, &client_info()).await? {
        SignIn::Complete { token, .. } => complete_sign_in(&mut inner, &db, token).await,
        SignIn::TotpRequired { challenge } => {
            let Some(code) = code else {
                return Err(CommandError {
                    code: ErrorCode::TotpRequired,
                    message: "Enter your two-factor code too.".into(),
                    field: Some("code".into()),
                });
            };
            let key = key_of(&inner)?;
            let (_, token) = auth::sign_in_totp(&db, now(), &key, &challenge, &code, &client_info()).await?;
            complete_sign_in(&mut inner, &db, token).await
        }
    }
}

#[tauri::command]
async fn sign_out(console: State<'_, Console>) -> CommandResult<()> {
    let mut inner = console.0.lock().await;
    if let Ok((db, me)) = operator(&inner).await {
        sessions::sign_out(&db, now(), &me).await?;
    }
    inner.token = None;
    inner.challenge = None;
    Ok(())
}

#[tauri::command]
async fn me(console: State<'_, Console>) -> CommandResult<Option<Me>> {
    let inner = console.0.lock().await;
    if inner.token.is_none() {
        return Ok(None);
    }
    let (db, me) = operator(&inner).await?;
    Ok(Some(me_of(&db, &me).await?))
}

#[tauri::command]
async fn list_users(console: State<'_, Console>, query: UserQuery) -> CommandResult<UsersPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::users_page(&db, &me.staff()?, &query, now()).await?)
}

#[tauri::command]
async fn get_user(console: State<'_, Console>, id: String) -> CommandResult<UserDetail> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::user_detail(&db, &me.staff()?, &id, now()).await?)
}

/// One user's sessions and marks on a time axis, for `[from, to]` (unix milliseconds).
#[tauri::command]
async fn user_timeline(
    console: State<'_, Console>,
    user_id: String,
    from: i64,
    to: i64,
) -> CommandResult<UserTimeline> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let id = uuid::Uuid::parse_str(user_id.trim()).map_err(|_| Error::invalid("user_id", "must be a user id"))?;
    Ok(timeline::user_timeline(&db, &me.staff()?, id, from, to, now()).await?)
}

/// The first screen: active sessions, sign-ins per hour, locked accounts, latest admin actions.
#[tauri::command]
async fn get_overview(console: State<'_, Console>) -> CommandResult<Overview> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(overview::overview(&db, &me.staff()?, now()).await?)
}

/// The first screen on a library's database Warden adopted: its users and sessions at a glance.
#[tauri::command]
async fn library_overview(console: State<'_, Console>) -> CommandResult<SubjectOverview> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::overview(&db, &me.staff()?, now()).await?)
}

/// A page of suspicious-activity flags, newest first (open ones unless the query says otherwise).
#[tauri::command]
async fn list_flags(console: State<'_, Console>, query: FlagQuery) -> CommandResult<FlagsPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(flags::page(&db, &me.staff()?, &query).await?)
}

/// Closes an open flag as dismissed or actioned, with the reason the audit log records.
#[tauri::command]
async fn resolve_flag(
    console: State<'_, Console>,
    id: String,
    resolution: Resolution,
    reason: String,
) -> CommandResult<FlagView> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::invalid("id", "must be a flag id"))?;
    Ok(flags::resolve(&db, &me.staff()?, now(), id, resolution, &reason).await?)
}

#[tauri::command]
async fn unlock_user(console: State<'_, Console>, id: String, reason: String) -> CommandResult<UserView> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::unlock_user(&db, &me.staff()?, now(), &id, &reason).await?)
}

#[tauri::command]
async fn reset_totp(console: State<'_, Console>, id: String, reason: String) -> CommandResult<UserView> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::reset_totp(&db, &me.staff()?, now(), &id, &reason).await?)
}

#[tauri::command]
async fn revoke_session(console: State<'_, Console>, session_id: String, reason: String) -> CommandResult<bool> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let id =
        uuid::Uuid::parse_str(session_id.trim()).map_err(|_| Error::invalid("session_id", "must be a session id"))?;
    Ok(admin::revoke_session(&db, &me.staff()?, now(), id, &reason).await?)
}

#[tauri::command]
async fn revoke_user_sessions(console: State<'_, Console>, user_id: String, reason: String) -> CommandResult<u64> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::revoke_user_sessions(&db, &me.staff()?, now(), &user_id, &reason).await?)
}

/// A page of the adopted library's users, by email, whose email or name starts with `search`.
#[tauri::command]
async fn list_library_users(
    console: State<'_, Console>,
    search: Option<String>,
    after: Option<String>,
    limit: u32,
) -> CommandResult<SubjectUsersPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::users_page(&db, &me.staff()?, search.as_deref(), after.as_deref(), limit).await?)
}

/// One of the library's users (by its id), with live sessions and those Warden ended.
#[tauri::command]
async fn get_library_user(console: State<'_, Console>, id: String) -> CommandResult<LibraryUserPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let staff = me.staff()?;
    let detail = subjects::detail(&db, &staff, &id, now()).await?;
    let ended = subjects::ended_sessions(&db, &staff, &detail.user.id, 50).await?;
    Ok(LibraryUserPage { detail, ended })
}

/// One of the library's users' sessions as a timeline over `from`..`to` (unix ms).
#[tauri::command]
async fn library_timeline(console: State<'_, Console>, id: String, from: i64, to: i64) -> CommandResult<UserTimeline> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::timeline(&db, &me.staff()?, &id, from, to, now()).await?)
}

/// Ends one of the library's sessions by deleting its row, as the library does.
#[tauri::command]
async fn revoke_library_session(console: State<'_, Console>, key: String, reason: String) -> CommandResult<()> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    subjects::revoke_session(&db, &me.staff()?, &key, &reason, RevokeStyle::Delete, now()).await?;
    Ok(())
}

/// Ends every session of one of the library's users; returns how many.
#[tauri::command]
async fn revoke_library_user(console: State<'_, Console>, id: String, reason: String) -> CommandResult<u64> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let n = subjects::revoke_user(&db, &me.staff()?, &id, &reason, RevokeStyle::Delete, now()).await?;
    Ok(n as u64)
}

/// Bans one of the library's users until `until` (unix milliseconds) or for good; returns how many
/// sessions it ended.
#[tauri::command]
async fn ban_library_user(
    console: State<'_, Console>,
    id: String,
    reason: String,
    until: Option<i64>,
) -> CommandResult<u64> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let n = subjects::ban(&db, &me.staff()?, &id, &reason, until, now()).await?;
    Ok(n as u64)
}

#[tauri::command]
async fn unban_library_user(console: State<'_, Console>, id: String, reason: String) -> CommandResult<()> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::unban(&db, &me.staff()?, &id, &reason, now()).await?)
}

/// How many live sessions, of how many users, `filter` takes in the library's table (every one without
/// a filter): the dry run of a bulk end and of the emergency sign-out.
#[tauri::command]
async fn count_library_sessions(
    console: State<'_, Console>,
    filter: Option<SubjectSessionFilter>,
) -> CommandResult<LibrarySessionCount> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let staff = me.staff()?;
    let across = match filter {
        Some(f) => subjects::across(&db, &staff, &f).await?,
        None => Across::everyone(),
    };
    let (sessions, users) = subjects::count_across(&db, &staff, &across, now()).await?;
    Ok(LibrarySessionCount { sessions, users })
}

/// A page of the library's sessions across users, newest first, with the filters its schema answers.
#[tauri::command]
async fn list_library_sessions(
    console: State<'_, Console>,
    filter: SubjectSessionFilter,
    status: SubjectSessionStatus,
    after: Option<String>,
    limit: u32,
) -> CommandResult<SubjectSessionsPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::sessions_page(&db, &me.staff()?, &filter, status, after.as_deref(), limit, now()).await?)
}

/// Ends every live session `filter` takes in the library's table, in audited batches.
#[tauri::command]
async fn end_library_sessions(
    console: State<'_, Console>,
    filter: SubjectSessionFilter,
    reason: String,
) -> CommandResult<BulkEnded> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let staff = me.staff()?;
    let across = subjects::across(&db, &staff, &filter).await?;
    if across.is_everyone() {
        // Signing everyone out is its own action (`sign_out_library_everyone`), never an empty filter.
        return Err(Error::invalid(
            "filter",
            "give at least one filter: signing everyone out is its own action",
        )
        .into());
    }
    Ok(subjects::end_across(&db, &staff, &across, &reason, 1_000, now(), |_, _| {}, || false).await?)
}

/// The emergency sign-out on a library's database: ends every live session, in audited batches.
#[tauri::command]
async fn sign_out_library_everyone(console: State<'_, Console>, reason: String) -> CommandResult<BulkEnded> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::end_across(
        &db,
        &me.staff()?,
        &Across::everyone(),
        &reason,
        1_000,
        now(),
        |_, _| {},
        || false,
    )
    .await?)
}

#[tauri::command]
async fn reset_library_two_factor(console: State<'_, Console>, id: String, reason: String) -> CommandResult<bool> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(subjects::reset_two_factor(&db, &me.staff()?, &id, &reason, now()).await?)
}

#[tauri::command]
async fn list_sessions(console: State<'_, Console>, query: SessionQuery) -> CommandResult<SessionsPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::sessions_page(&db, &me.staff()?, &query, now()).await?)
}

#[tauri::command]
async fn count_sessions(console: State<'_, Console>, filter: SessionFilter) -> CommandResult<SessionCount> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(admin::count_sessions(&db, &me.staff()?, &filter, now()).await?)
}

/// The dry run of a bulk termination.
#[tauri::command]
async fn plan_bulk_revoke(console: State<'_, Console>, request: BulkRequest) -> CommandResult<BulkPlan> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(bulk::plan(&db, &me.staff()?, &request, now()).await?)
}

/// Runs a bulk termination, sending progress after every batch; `cancel_bulk_revoke` stops it between
/// batches. The console's lock is not held while it runs, so the window stays usable.
#[tauri::command]
async fn bulk_revoke(
    console: State<'_, Console>,
    request: BulkRequest,
    on_progress: Channel<BulkProgress>,
) -> CommandResult<BulkSummary> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut running = console.1 .0.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return Err(CommandError {
                code: ErrorCode::BulkRunning,
                message: "A bulk termination is already running; wait for it or cancel it.".into(),
                field: None,
            });
        }
        *running = Some(cancel.clone());
    }
    let mut report = |p: BulkProgress| {
        let _ = on_progress.send(p);
    };
    let result = bulk::run(&db, &me.staff()?, &SystemClock, &request, &cancel, &mut report).await;
    *console.1 .0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    Ok(result?)
}

#[tauri::command]
async fn cancel_bulk_revoke(console: State<'_, Console>) -> CommandResult<bool> {
    let running = console.1 .0.lock().unwrap_or_else(|p| p.into_inner());
    Ok(match running.as_ref() {
        Some(flag) => {
            flag.store(true, Ordering::SeqCst);
            true
        }
        None => false,
    })
}

/// One page of the audit log, newest first (keyset-paged by seq).
#[tauri::command]
async fn list_audit(console: State<'_, Console>, query: AuditQuery) -> CommandResult<AuditPage> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(audit_query::page(&db, &me.staff()?, &query).await?)
}

/// Where an export goes: the native save dialog, opened from here so that no file path ever comes from
/// the webview. `None` when the operator cancels it.
///
/// Test seam: in debug builds only, `WARDEN_CONSOLE_EXPORT_DIR` skips the dialog and writes to that
/// folder under the suggested name (the window tests cannot drive a native dialog). Release builds
/// ignore it.
async fn export_destination(app: &AppHandle, format: ExportFormat) -> CommandResult<Option<PathBuf>> {
    let ext = format.as_str();
    let date: String = warden_core::model::clock::format_ms(now()).chars().take(10).collect();
    let name = format!("warden-audit-{date}.{ext}");
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os("WARDEN_CONSOLE_EXPORT_DIR") {
        return Ok(Some(PathBuf::from(dir).join(name)));
    }
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Export the audit log")
        .set_file_name(name)
        .add_filter(ext.to_uppercase(), &[ext])
        .save_file(move |picked| {
            let _ = tx.send(picked);
        });
    match rx.await.ok().flatten() {
        None => Ok(None),
        Some(p) => Ok(Some(p.into_path().map_err(|e| {
            Error::invalid("file", format!("not a file on this computer: {e}"))
        })?)),
    }
}

/// Exports the events matching `filter` to a file the operator picks in the save dialog, streamed, with
/// progress after every batch. `None` when the dialog was cancelled (nothing is written or audited).
#[tauri::command]
async fn export_audit(
    app: AppHandle,
    console: State<'_, Console>,
    filter: AuditFilterInput,
    format: ExportFormat,
    on_progress: Channel<AuditProgress>,
) -> CommandResult<Option<ExportReport>> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    // Refused (and bad filters named) before a dialog asks for a file.
    let admin = me.admin_for(Permission::VerifyAudit)?;
    let filter = filter.resolve(&db).await?;
    let Some(path) = export_destination(&app, format).await? else {
        return Ok(None);
    };
    let mut report = |done: i64, total: i64| {
        let _ = on_progress.send(AuditProgress { done, total });
    };
    Ok(Some(
        audit_query::export_to_file(&db, &admin, now(), &filter, format, &path, &mut report).await?,
    ))
}

/// Walks the hash chain with progress after every batch; the check is audited.
#[tauri::command]
async fn verify_audit(console: State<'_, Console>, on_progress: Channel<AuditProgress>) -> CommandResult<Verification> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(
        audit::verify(&db, &me.admin_for(Permission::VerifyAudit)?, now(), |done, total| {
            let _ = on_progress.send(AuditProgress { done, total });
        })
        .await?,
    )
}

/// The policy in force with each key's group, kind, choices and help.
#[tauri::command]
async fn get_policy(console: State<'_, Console>) -> CommandResult<PolicyForm> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(policy_store::form(&db, &me.admin_for(Permission::ChangePolicy)?).await?)
}

fn pairs(changes: Vec<PolicyEntry>) -> Vec<(String, String)> {
    changes.into_iter().map(|e| (e.key, e.value)).collect()
}

/// Checks a proposed change (every broken rule), its diff and simulation; writes nothing.
#[tauri::command]
async fn preview_policy(console: State<'_, Console>, changes: Vec<PolicyEntry>) -> CommandResult<PolicyPreview> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(policy_store::preview(&db, &me.admin_for(Permission::ChangePolicy)?, now(), &pairs(changes)).await?)
}

/// Saves a change edited from `base_version` (the version the review showed): refused with
/// `policy_conflict` when another version was saved since, so that nobody's change is silently undone.
#[tauri::command]
async fn save_policy(
    console: State<'_, Console>,
    changes: Vec<PolicyEntry>,
    note: String,
    shorten_sessions: bool,
    base_version: i64,
) -> CommandResult<PolicyUpdate> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let options = policy_store::SaveOptions {
        shorten_sessions,
        base_version: Some(base_version),
    };
    Ok(policy_store::set_with(
        &db,
        &me.admin_for(Permission::ChangePolicy)?,
        now(),
        &pairs(changes),
        &note,
        options,
    )
    .await?)
}

#[tauri::command]
async fn policy_history(console: State<'_, Console>) -> CommandResult<Vec<PolicyVersionView>> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    Ok(policy_store::history_with_changes(&db, &me.staff()?).await?)
}

#[tauri::command]
async fn rollback_policy(
    console: State<'_, Console>,
    version: i64,
    note: String,
    shorten_sessions: bool,
    base_version: i64,
) -> CommandResult<PolicyUpdate> {
    let (db, me) = operator(&*console.0.lock().await).await?;
    let options = policy_store::SaveOptions {
        shorten_sessions,
        base_version: Some(base_version),
    };
    Ok(policy_store::rollback(
        &db,
        &me.admin_for(Permission::ChangePolicy)?,
        now(),
        version,
        &note,
        options,
    )
    .await?)
}

pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_store::Builder::default().build())
        .manage(Console::default())
        .invoke_handler(tauri::generate_handler![
            app_info,
            open_demo,
            open_sqlite,
            open_postgres,
            open_saved,
            cancel_connect,
            forget_connection,
            disconnect,
            sign_in,
            sign_in_totp,
            reauthenticate,
            sign_out,
            me,
            list_users,
            get_user,
            user_timeline,
            get_overview,
            unlock_user,
            reset_totp,
            revoke_session,
            revoke_user_sessions,
            get_policy,
            preview_policy,
            save_policy,
            policy_history,
            rollback_policy,
            list_sessions,
            count_sessions,
            plan_bulk_revoke,
            bulk_revoke,
            cancel_bulk_revoke,
            list_audit,
            export_audit,
            verify_audit,
            list_flags,
            resolve_flag,
            library_overview,
            list_library_users,
            get_library_user,
            library_timeline,
            revoke_library_session,
            revoke_library_user,
            ban_library_user,
            unban_library_user,
            reset_library_two_factor,
            count_library_sessions,
            list_library_sessions,
            end_library_sessions,
            sign_out_library_everyone,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Warden console");
}

/// The TypeScript declarations of every type that crosses the IPC boundary, generated with ts-rs and
/// committed under ui/src/lib/backend/generated. This test fails when they are stale; run it with
/// `WARDEN_UPDATE_BINDINGS=1` to rewrite them.
#[cfg(test)]
mod bindings {
    use std::path::{Path, PathBuf};

    use ts_rs::{Config, TS};

    use super::types::*;

    fn export_all(dir: &Path) {
        let cfg = Config::new().with_out_dir(dir).with_large_int("number");
        macro_rules! export {
            ($($t:ty),* $(,)?) => { $( <$t as TS>::export_all(&cfg).expect(stringify!($t)); )* };
        }
        export!(
            CommandError,
            AppInfo,
            Connected,
            LibraryInfo,
            LibraryUserPage,
            LibrarySessionCount,
            warden_core::ops::subjects::SubjectUsersPage,
            warden_core::ops::subjects::BulkEnded,
            warden_core::ops::subjects::SubjectSessionsPage,
            warden_core::ops::subjects::SubjectOverview,
            warden_core::ops::subjects::SubjectSessionFilter,
            warden_core::ops::subjects::SubjectSessionStatus,
            Me,
            SignInStep,
            PolicyEntry,
            warden_core::ops::policy::PolicyForm,
            warden_core::ops::policy::PolicyPreview,
            warden_core::ops::policy::PolicyUpdate,
            warden_core::ops::policy::PolicyVersionView,
            warden_core::ops::admin::UserQuery,
            warden_core::ops::admin::UsersPage,
            warden_core::ops::admin::UserDetail,
            warden_core::ops::timeline::UserTimeline,
            warden_core::ops::overview::Overview,
            warden_core::ops::users::UserView,
            warden_core::ops::admin::SessionQuery,
            warden_core::ops::admin::SessionsPage,
            warden_core::ops::admin::SessionCount,
            warden_core::ops::bulk::BulkRequest,
            warden_core::ops::bulk::BulkPlan,
            warden_core::ops::bulk::BulkProgress,
            warden_core::ops::bulk::BulkSummary,
            warden_core::ops::audit_query::AuditQuery,
            warden_core::ops::audit::AuditPage,
            warden_core::ops::audit_query::AuditProgress,
            warden_core::ops::audit_query::ExportReport,
            warden_core::ops::audit::Verification,
            warden_core::ops::flags::FlagQuery,
            warden_core::ops::flags::FlagsPage,
            warden_core::ops::flags::FlagView,
            warden_core::ops::flags::Resolution,
            warden_core::model::vocab::AuthMethod,
            warden_core::model::vocab::RevokeReason,
            warden_core::model::vocab::AttemptOutcome,
            warden_core::model::vocab::AuditAction,
            warden_core::model::vocab::AuditActionGroup,
            warden_core::model::vocab::SessionStatus,
            warden_core::model::vocab::ErrorCode,
            warden_core::Role,
        );
        std::fs::write(dir.join("vocab.ts"), vocab_ts()).expect("write vocab.ts");
    }

    /// The value lists of the engine's vocabularies, for the UI's filters and labels (ts-rs writes types
    /// only).
    fn vocab_ts() -> String {
        use warden_core::model::vocab::*;
        fn list<'a>(name: &str, ty: &str, values: impl Iterator<Item = &'a str>) -> String {
            let values: Vec<String> = values.map(|v| format!("'{v}'")).collect();
            format!("export const {name}: readonly {ty}[] = [{}];\n", values.join(", "))
        }
        let mut out = String::from(
            "// Generated by `WARDEN_UPDATE_BINDINGS=1 cargo test -p warden-console bindings`: the values of \
             the engine's vocabularies.\n",
        );
        for ty in [
            "AttemptOutcome",
            "AuditAction",
            "AuditActionGroup",
            "AuthMethod",
            "ErrorCode",
            "RevokeReason",
            "Role",
            "SessionStatus",
        ] {
            out.push_str(&format!("import type {{ {ty} }} from './{ty}';\n"));
        }
        out.push('\n');
        out.push_str(&list(
            "ATTEMPT_OUTCOMES",
            "AttemptOutcome",
            AttemptOutcome::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "AUDIT_ACTIONS",
            "AuditAction",
            AuditAction::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "AUDIT_ACTION_GROUPS",
            "AuditActionGroup",
            AuditActionGroup::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "AUTH_METHODS",
            "AuthMethod",
            AuthMethod::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "ERROR_CODES",
            "ErrorCode",
            ErrorCode::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "REVOKE_REASONS",
            "RevokeReason",
            RevokeReason::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "ROLES",
            "Role",
            warden_core::Role::ALL.iter().map(|v| v.as_str()),
        ));
        out.push_str(&list(
            "SESSION_STATUSES",
            "SessionStatus",
            SessionStatus::ALL.iter().map(|v| v.as_str()),
        ));
        out
    }

    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                    .filter(|e| e.file_name() != "index.ts")
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            std::fs::read_to_string(e.path()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    #[test]
    fn typescript_bindings_are_current() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/backend/generated");
        let fresh = tempfile::tempdir().expect("temp dir");
        export_all(fresh.path());
        let want = files(fresh.path());
        if std::env::var_os("WARDEN_UPDATE_BINDINGS").is_some() {
            std::fs::create_dir_all(&committed).expect("create the bindings folder");
            for (name, _) in files(&committed) {
                std::fs::remove_file(committed.join(name)).expect("remove a stale binding");
            }
            let mut index =
                String::from("// Generated by `WARDEN_UPDATE_BINDINGS=1 cargo test -p warden-console bindings`.\n");
            for (name, body) in &want {
                std::fs::write(committed.join(name), body).expect("write a binding");
                let kind = if name == "vocab.ts" {
                    "export *"
                } else {
                    "export type *"
                };
                index.push_str(&format!("{kind} from \"./{}\";\n", name.trim_end_matches(".ts")));
            }
            std::fs::write(committed.join("index.ts"), index).expect("write index.ts");
            return;
        }
        assert!(
            files(&committed) == want,
            "ui/src/lib/backend/generated is stale: run `WARDEN_UPDATE_BINDINGS=1 cargo test -p warden-console bindings` and commit the result"
        );
    }
}
