//! The harness: one fresh, migrated database per test on each backend, a manual clock, and quick helpers
//! to create users and sessions.

use std::sync::Arc;
use warden_core::store::Pool;

use tokio::sync::OnceCell;
use uuid::Uuid;
use warden_core::model::authz::{Actor, ActorKind, Admin, Staff};
use warden_core::ops::audit::{AuditEvent, AuditFilter};
use warden_core::ops::auth::{self, SignIn};
use warden_core::ops::policy::{self as policy_store, PolicyUpdate};
use warden_core::ops::sessions::{self, Authenticated, ClientInfo, SessionRow};
use warden_core::rules::totp::DataKey;
use warden_core::store::Backend;
use warden_core::{with_db, Clock, Db, Error, ManualClock, Millis, Role, Secret};

/// 2026-01-01T00:00:00Z.
pub const START: Millis = 1_767_225_600_000;
pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// The password every helper-created user has.
pub const PASSWORD: &str = "correct horse battery staple 42";
pub const WRONG_PASSWORD: &str = "incorrect horse battery staple 43";

pub use warden_testdb::{both, TestDatabases};

/// Unwraps an error, failing the test if the call succeeded.
/// A browser's sign-in from `country` (one fixed address, the web client).
pub fn from(country: &str) -> ClientInfo {
    ClientInfo {
        ip: Some("198.51.100.7".into()),
        user_agent: None,
        country: Some(country.into()),
        city: None,
        client: Some("web".into()),
    }
}

pub fn err<T: std::fmt::Debug>(r: Result<T, Error>, why: &str) -> Error {
    match r {
        Ok(v) => panic!("expected an error ({why}), got Ok({v:?})"),
        Err(e) => e,
    }
}

/// Asserts the machine code of an error result.
#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(r: Result<T, Error>, code: &str, why: &str) -> Error {
    let e = err(r, why);
    assert_eq!(e.code(), code, "{why}; got {e:?}");
    e
}

/// The context of one test.
pub struct T {
    pub db: Db,
    pub url: String,
    pub clock: ManualClock,
    pub key: DataKey,
    pub backend: Backend,
    dbs: Arc<TestDatabases>,
    admin: OnceCell<Actor>,
    support: OnceCell<Actor>,
}

impl T {
    pub async fn sqlite() -> (T, Arc<TestDatabases>) {
        let (dbs, url) = TestDatabases::sqlite();
        T::setup(url, dbs).await
    }

    /// `None` (and a note on stdout) when no PostgreSQL is configured, unless it is required.
    pub async fn postgres() -> Option<(T, Arc<TestDatabases>)> {
        let (dbs, url) = TestDatabases::postgres()?;
        Some(T::setup(url, dbs).await)
    }

    async fn setup(url: String, dbs: TestDatabases) -> (T, Arc<TestDatabases>) {
        // Returned as the test's guard, and kept by `T` for `empty_database_url`; a setup that fails
        // half-way drops it, and with it the databases.
        let dbs = Arc::new(dbs);
        let db = Db::connect(&url, true).await.expect("connect to the test database");
        db.migrate().await.expect("migrate the test database");
        let backend = db.backend();
        let t = T {
            db,
            url,
            clock: ManualClock::at(START),
            key: DataKey::generate(),
            backend,
            dbs: dbs.clone(),
            admin: OnceCell::new(),
            support: OnceCell::new(),
        };
        // Cheap argon2 so that users are quick to create; everything else stays at the defaults.
        t.set_policy(&[
            ("password.argon2_memory_kib", "8192"),
            ("password.argon2_iterations", "1"),
        ])
        .await;
        (t, dbs)
    }

    /// An empty database of the same backend, with no schema (for the schema tests).
    pub async fn empty_database_url(&self) -> String {
        self.dbs.another()
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn advance(&self, by: Millis) {
        self.clock.advance(by);
    }

    /// Applies policy assignments as the CLI operator (fresh, security admin).
    pub async fn set_policy(&self, kv: &[(&str, &str)]) -> PolicyUpdate {
        let assignments: Vec<(String, String)> = kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        policy_store::set(&self.db, &self.cli(), self.now(), &assignments, "tests")
            .await
            .unwrap_or_else(|e| panic!("policy {kv:?} must be accepted: {e}"))
    }

    /// Creates a verified user with [`PASSWORD`].
    pub async fn user(&self, email: &str, role: Role) -> Uuid {
        self.user_named(email, "Test Person", role).await
    }

    pub async fn user_named(&self, email: &str, name: &str, role: Role) -> Uuid {
        auth::sign_up(
            &self.db,
            self.now(),
            &auth::NewAccount {
                email,
                name,
                password: &Secret::new(PASSWORD),
                role,
                verified: true,
                ip: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("sign_up {email}: {e}"))
    }

    pub async fn user_row(&self, id: Uuid) -> warden_core::ops::users::UserRow {
        warden_core::ops::users::by_id(&self.db, id)
            .await
            .expect("read user")
            .expect("user exists")
    }

    pub async fn try_sign_in(&self, email: &str, password: &str, info: &ClientInfo) -> Result<SignIn, Error> {
        auth::sign_in(&self.db, self.now(), email, &Secret::new(password), info).await
    }

    /// Signs in with the right password; the sign-in must complete (no second factor).
    pub async fn sign_in(&self, email: &str) -> (SessionRow, Secret) {
        self.sign_in_with(email, &ClientInfo::default()).await
    }

    pub async fn sign_in_with(&self, email: &str, info: &ClientInfo) -> (SessionRow, Secret) {
        match self.try_sign_in(email, PASSWORD, info).await {
            Ok(SignIn::Complete { session, token }) => (*session, token),
            other => panic!("sign-in of {email} must complete, got {other:?}"),
        }
    }

    pub async fn validate(&self, token: &Secret) -> Result<Authenticated, Error> {
        sessions::validate(&self.db, self.now(), token, &ClientInfo::default()).await
    }

    pub async fn session(&self, id: Uuid) -> SessionRow {
        sessions::by_id(&self.db, id)
            .await
            .expect("read session")
            .expect("session exists")
    }

    /// An actor for a signed-in person with `role`, authenticated now.
    pub fn actor_for(&self, id: Uuid, email: &str, role: Role) -> Actor {
        Actor {
            id: Some(id),
            kind: ActorKind::User,
            label: email.to_owned(),
            role,
            authenticated_at: self.now(),
            session_id: None,
            ip: Some("10.0.0.1".into()),
        }
    }

    /// The CLI operator's capability (a security admin), authenticated now.
    pub fn cli(&self) -> Admin {
        warden_core::ops::operator::cli(self.now()).expect("the CLI operator")
    }

    /// The staff capability of a person built by hand (tests only: a door gets it from a session).
    pub fn staff_for(&self, id: Uuid, email: &str, role: Role) -> Staff {
        Staff::for_tests(self.actor_for(id, email, role))
    }

    /// A security admin (created on first use), authenticated now.
    pub async fn admin_actor(&self) -> Admin {
        Admin::for_tests(self.admin_identity().await)
    }

    /// The security admin's identity (created on first use), authenticated now, to adjust before it
    /// becomes a capability (`Admin::for_tests`).
    pub async fn admin_identity(&self) -> Actor {
        let a = self
            .admin
            .get_or_init(|| async {
                let id = self
                    .user_named("root@example.com", "Root Admin", Role::SecurityAdmin)
                    .await;
                self.actor_for(id, "root@example.com", Role::SecurityAdmin)
            })
            .await;
        Actor {
            authenticated_at: self.now(),
            ..a.clone()
        }
    }

    /// A support agent (created on first use), authenticated now.
    pub async fn support_actor(&self) -> Staff {
        Staff::for_tests(self.support_identity().await)
    }

    /// The support agent's identity (created on first use), authenticated now.
    pub async fn support_identity(&self) -> Actor {
        let a = self
            .support
            .get_or_init(|| async {
                let id = self
                    .user_named("helpdesk@example.com", "Help Desk", Role::Support)
                    .await;
                self.actor_for(id, "helpdesk@example.com", Role::Support)
            })
            .await;
        Actor {
            authenticated_at: self.now(),
            ..a.clone()
        }
    }

    /// Every audit event matching `filter`, oldest first.
    pub async fn audit(&self, filter: AuditFilter) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let page = warden_core::store::audit::list(&self.db, &filter, before, 500)
                .await
                .expect("list audit events");
            out.extend(page.events);
            match page.next_cursor {
                Some(c) => before = Some(c),
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// Every audit event with this exact action, oldest first.
    pub async fn audit_action(&self, action: &str) -> Vec<AuditEvent> {
        self.audit(AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
    }

    /// Runs one statement without parameters.
    pub async fn exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
        with_db!(&self.db, |p| sqlx::query(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        with_db!(&self.db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// `(kind, detail)` of a session's timeline, in order.
    pub async fn session_events(&self, session_id: Uuid) -> Vec<(String, Option<String>)> {
        with_db!(&self.db, |p| sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT kind, detail FROM session_events WHERE session_id = $1 ORDER BY id"
        )
        .bind(session_id)
        .fetch_all(p)
        .await)
        .expect("read session events")
    }

    /// `(email, outcome, user_id)` of every login attempt, in order.
    pub async fn login_attempts(&self) -> Vec<(String, String, Option<Uuid>)> {
        with_db!(&self.db, |p| sqlx::query_as::<_, (String, String, Option<Uuid>)>(
            "SELECT email, outcome, user_id FROM login_attempts ORDER BY id"
        )
        .fetch_all(p)
        .await)
        .expect("read login attempts")
    }

    /// Whether any column of any row of `table` holds `needle`, as text or as its bytes (hex).
    pub async fn table_contains(&self, table: &str, needle: &str) -> bool {
        let hex_needle = hex_upper(needle.as_bytes());
        match &self.db.pool {
            Pool::Postgres(p) => {
                let sql = format!(
                    "SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0 OR strpos(upper(t::text), $2) > 0"
                );
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(needle)
                    .bind(&hex_needle)
                    .fetch_one(p)
                    .await
                    .expect(&sql);
                n > 0
            }
            Pool::Sqlite(p) => {
                let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                    .bind(table)
                    .fetch_all(p)
                    .await
                    .expect("table columns");
                assert!(!cols.is_empty(), "table {table} has columns");
                let conds: Vec<String> = cols
                    .iter()
                    .map(|c| format!("instr(CAST({c} AS TEXT), $1) > 0 OR instr(hex({c}), $2) > 0"))
                    .collect();
                let sql = format!("SELECT count(*) FROM {table} WHERE {}", conds.join(" OR "));
                let n: i64 = sqlx::query_scalar(&sql)
                    .bind(needle)
                    .bind(&hex_needle)
                    .fetch_one(p)
                    .await
                    .expect(&sql);
                n > 0
            }
        }
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Shortened session limits for the expiry tests (ordinary and privileged alike).
pub const SHORT_SESSIONS: &[(&str, &str)] = &[
    ("session.ttl", "2h"),
    ("session.refresh_after", "1h"),
    ("session.idle_timeout", "1h"),
    ("session.max_lifetime", "4h"),
    ("privileged.ttl", "2h"),
    ("privileged.refresh_after", "1h"),
    ("privileged.idle_timeout", "1h"),
    ("privileged.max_lifetime", "4h"),
];
