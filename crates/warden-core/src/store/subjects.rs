//! The users and sessions of a library's database that Warden adopted (Better Auth, Auth.js), read and
//! changed in the library's own terms, so that the application, unchanged, obeys on its next request:
//! a revoked session's row is deleted as the library deletes it (or its expiry set to now, Better
//! Auth's `preserveSessionInDatabase` style), after a copy goes to Warden's `library_sessions_ended`;
//! a ban sets Better Auth's admin-plugin fields and deletes the user's sessions as `banUser` does; a
//! two-factor reset deletes the `twoFactor` row and clears `twoFactorEnabled`. Column names come from
//! the schema found ([`LibrarySchema`]) and are always quoted; values are always bound.

use sha2::{Digest, Sha256};

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::model::library::{
    DateStyle, EndedSession, LibrarySchema, SubjectSession, SubjectSessionStatus, SubjectUser, TableRole,
};
use crate::model::vocab::RevokeReason;
use crate::store::library::{instant, instant_sql, millis_sql, quote, table};
use crate::store::{Backend, Db, Tx};
use crate::{with_db, with_tx};

/// How a revocation leaves the library's session row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeStyle {
    /// Delete it, as the library's own `revokeSession` does.
    Delete,
    /// Keep it with its expiry set to now (Better Auth's `preserveSessionInDatabase`).
    Expire,
}

/// Which of the library's sessions a change takes.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// The one with this key ([`SubjectSession::key`]).
    Session(&'a str),
    /// Every session row of this user.
    User(&'a str),
}

/// The schema of a database Warden adopted, or a clear error on Warden's own.
pub fn schema(db: &Db) -> Result<&LibrarySchema> {
    db.library().ok_or_else(|| {
        Error::SchemaIncompatible("this is Warden's own schema, not a library's database that Warden adopted".into())
    })
}

/// The quoted column of `field` in the table of `role`, when the schema has it.
fn column(schema: &LibrarySchema, role: TableRole, field: &str) -> Option<String> {
    schema.table(role)?.columns.get(field).map(quote)
}

fn required(schema: &LibrarySchema, role: TableRole, field: &str) -> Result<String> {
    column(schema, role, field).ok_or_else(|| {
        Error::SchemaIncompatible(format!(
            "this {} schema's {} table has no {field} column",
            schema.library.name(),
            role.key()
        ))
    })
}

/// The SQL that reads parameter `$n` as a user id of this schema (the ids are integers in Auth.js's
/// PostgreSQL adapter, so a text parameter is cast, which keeps the index usable).
fn user_id_param(schema: &LibrarySchema, backend: Backend, n: usize) -> String {
    match (schema.user_id_type.as_str(), backend) {
        ("integer" | "bigint" | "smallint" | "int" | "int4" | "int8", _) => format!("CAST(${n} AS BIGINT)"),
        ("uuid", Backend::Postgres) => format!("CAST(${n} AS uuid)"),
        _ => format!("${n}"),
    }
}

/// The SQL of a session's key: its id as text, or the start of its token's SHA-256 where sessions
/// have no id (never the token).
fn session_key_sql(schema: &LibrarySchema) -> Result<String> {
    if let Some(id) = column(schema, TableRole::Session, "id") {
        return Ok(format!("CAST({id} AS TEXT)"));
    }
    let token = column(schema, TableRole::Session, "sessionToken")
        .or_else(|| column(schema, TableRole::Session, "token"))
        .ok_or_else(|| Error::SchemaIncompatible("the sessions have neither an id nor a token".into()))?;
    Ok(format!(
        "('sha256:' || substr(encode(sha256(convert_to({token}, 'UTF8')), 'hex'), 1, 16))"
    ))
}

/// The key of a session that has no id, from its token: what [`session_key_sql`] computes.
pub fn token_key(token: &str) -> String {
    format!("sha256:{}", &hex::encode(Sha256::digest(token.as_bytes()))[..16])
}

fn millis_or_null(schema: &LibrarySchema, role: TableRole, field: &str) -> String {
    match column(schema, role, field) {
        Some(c) => millis_sql(schema.dates, &c),
        None => "CAST(NULL AS BIGINT)".into(),
    }
}

fn text_or_null(schema: &LibrarySchema, role: TableRole, field: &str) -> String {
    column(schema, role, field).unwrap_or_else(|| "CAST(NULL AS TEXT)".into())
}

/// A boolean column as 0/1 (NULL when the schema lacks it): PostgreSQL's booleans and SQLite's integers
/// read alike.
fn flag_or_null(schema: &LibrarySchema, role: TableRole, field: &str) -> String {
    match column(schema, role, field) {
        Some(c) => format!("CAST(CASE WHEN {c} THEN 1 ELSE 0 END AS BIGINT)"),
        None => "CAST(NULL AS BIGINT)".into(),
    }
}

/// 1 when a user's email is verified, else 0. Better Auth keeps a boolean, Auth.js the instant it was
/// verified.
fn verified_sql(schema: &LibrarySchema) -> String {
    match (schema.library, column(schema, TableRole::User, "emailVerified")) {
        (crate::model::library::Library::BetterAuth, Some(c)) => format!("CASE WHEN {c} THEN 1 ELSE 0 END"),
        (_, Some(c)) => format!("CASE WHEN {c} IS NULL THEN 0 ELSE 1 END"),
        (_, None) => "0".into(),
    }
}

/// The condition that a user's role, a comma-separated list in the `role` column `role`, holds `admin`
/// (in any case, spaces aside), as [`SubjectUser::is_staff`] reads it.
fn admin_role_sql(role: &str) -> String {
    format!("(',' || replace(lower({role}), ' ', '') || ',') LIKE '%,admin,%'")
}

/// The select list of [`SubjectUser`], in its field order.
fn user_columns(schema: &LibrarySchema) -> Result<String> {
    let u = TableRole::User;
    let verified = format!("CAST({} AS BIGINT)", verified_sql(schema));
    Ok(format!(
        "CAST({id} AS TEXT), {email}, {name}, {created}, {verified}, {role}, {banned}, {ban_reason}, {ban_expires}, {two_factor}",
        id = required(schema, u, "id")?,
        email = required(schema, u, "email")?,
        name = text_or_null(schema, u, "name"),
        created = millis_or_null(schema, u, "createdAt"),
        role = text_or_null(schema, u, "role"),
        banned = flag_or_null(schema, u, "banned"),
        ban_reason = text_or_null(schema, u, "banReason"),
        ban_expires = millis_or_null(schema, u, "banExpires"),
        two_factor = flag_or_null(schema, u, "twoFactorEnabled"),
    ))
}

type UserTuple = (
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn subject_user(t: UserTuple) -> SubjectUser {
    let (id, email, name, created_at, verified, role, banned, ban_reason, ban_expires, two_factor) = t;
    SubjectUser {
        id,
        email,
        name,
        created_at,
        email_verified: verified != 0,
        role,
        banned: banned.map(|b| b != 0),
        ban_reason,
        ban_expires,
        two_factor: two_factor.map(|b| b != 0),
    }
}

/// A page of users by email, after the email `after`, whose email or name starts with `search`
/// (lowercase); one more than `limit` tells there is a next page.
pub async fn users_page(db: &Db, search: Option<&str>, after: Option<&str>, limit: u32) -> Result<Vec<SubjectUser>> {
    // A whole address is found on the email's index; a start of one or of a name reads the table (Warden
    // adds no index to the library's tables).
    if let (Some(whole), None) = (search.filter(|s| s.contains('@')), after) {
        if let Some(u) = user(db, whole).await? {
            return Ok(vec![u]);
        }
    }
    let schema = schema(db)?;
    let t = table(schema, TableRole::User).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let email = required(schema, TableRole::User, "email")?;
    let name = column(schema, TableRole::User, "name");
    let mut cond = vec!["1 = 1".to_owned()];
    if search.is_some() {
        cond.push(match &name {
            Some(n) => format!("(lower({email}) LIKE $1 OR lower({n}) LIKE $1)"),
            None => format!("lower({email}) LIKE $1"),
        });
    }
    if after.is_some() {
        cond.push(format!("{email} > $2"));
    }
    let sql = format!(
        "SELECT {} FROM {t} WHERE {} ORDER BY {email} LIMIT $3",
        user_columns(schema)?,
        cond.join(" AND ")
    );
    let pattern = search.map(|s| format!("{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let rows: Vec<UserTuple> = with_db!(db, |p| sqlx::query_as(&sql)
        .bind(pattern.as_deref().unwrap_or(""))
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(p)
        .await?);
    Ok(rows.into_iter().map(subject_user).collect())
}

/// The user with this id, or with this email (any case) when `ident` holds an `@`.
pub async fn user(db: &Db, ident: &str) -> Result<Option<SubjectUser>> {
    let schema = schema(db)?;
    let t = table(schema, TableRole::User).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let by = if ident.contains('@') {
        // The libraries keep emails as typed at sign-up, which Better Auth lowercases: an exact match or
        // the lowercased one, both on the email's unique index (a case-insensitive scan would read every
        // user of a million-user table).
        let email = required(schema, TableRole::User, "email")?;
        format!("({email} = $1 OR {email} = lower($1))")
    } else {
        if schema.user_id_type.starts_with("int") || schema.user_id_type == "bigint" {
            if ident.parse::<i64>().is_err() {
                return Ok(None);
            }
        } else if schema.user_id_type == "uuid" && uuid::Uuid::parse_str(ident).is_err() {
            return Ok(None);
        }
        format!(
            "{} = {}",
            required(schema, TableRole::User, "id")?,
            user_id_param(schema, db.backend(), 1)
        )
    };
    let sql = format!("SELECT {} FROM {t} WHERE {by}", user_columns(schema)?);
    let row: Option<UserTuple> = with_db!(db, |p| sqlx::query_as(&sql).bind(ident).fetch_optional(p).await?);
    Ok(row.map(subject_user))
}

/// The select list of [`SubjectSession`], in its field order.
fn session_columns(schema: &LibrarySchema) -> Result<String> {
    Ok(session_column_list(schema)?.join(", "))
}

fn session_column_list(schema: &LibrarySchema) -> Result<Vec<String>> {
    let s = TableRole::Session;
    Ok(vec![
        session_key_sql(schema)?,
        format!("CAST({} AS TEXT)", required(schema, s, "userId")?),
        millis_or_null(schema, s, "createdAt"),
        millis_or_null(schema, s, schema.library.expiry_field()),
        text_or_null(schema, s, "ipAddress"),
        text_or_null(schema, s, "userAgent"),
        text_or_null(schema, s, "impersonatedBy"),
    ])
}

/// The column that tells one session row from another: its id, or its token (unique in both libraries;
/// it never leaves the statement).
fn session_identity(schema: &LibrarySchema) -> Result<String> {
    column(schema, TableRole::Session, "id")
        .or_else(|| column(schema, TableRole::Session, "sessionToken"))
        .or_else(|| column(schema, TableRole::Session, "token"))
        .ok_or_else(|| Error::SchemaIncompatible("the sessions have neither an id nor a token".into()))
}

type SessionTuple = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn subject_session(t: SessionTuple) -> SubjectSession {
    let (key, user_id, created_at, expires_at, ip, user_agent, impersonated_by) = t;
    SubjectSession {
        key,
        user_id,
        created_at,
        expires_at,
        ip,
        user_agent,
        impersonated_by,
    }
}

/// The condition on the session table that picks `which` (its parameter is `$1`).
fn which_sql(schema: &LibrarySchema, backend: Backend, which: Which<'_>) -> Result<String> {
    Ok(match which {
        Which::User(_) => format!(
            "{} = {}",
            required(schema, TableRole::Session, "userId")?,
            user_id_param(schema, backend, 1)
        ),
        Which::Session(_) => match column(schema, TableRole::Session, "id") {
            Some(id) => format!("CAST({id} AS TEXT) = $1"),
            None => format!("{} = $1", session_key_sql(schema)?),
        },
    })
}

fn which_value(which: Which<'_>) -> &str {
    match which {
        Which::User(v) | Which::Session(v) => v,
    }
}

/// The session rows of one user whose expiry is after `now`, newest expiry first.
pub async fn live_sessions_of(db: &Db, user_id: &str, now: Millis) -> Result<Vec<SubjectSession>> {
    let schema = schema(db)?;
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let expires = required(schema, TableRole::Session, schema.library.expiry_field())?;
    let sql = format!(
        "SELECT {} FROM {t} WHERE {} AND {expires} > {} ORDER BY {expires} DESC",
        session_columns(schema)?,
        which_sql(schema, db.backend(), Which::User(user_id))?,
        instant_sql(schema.dates, 2)
    );
    let at = instant(schema.dates, now);
    let rows: Vec<SessionTuple> = with_db!(db, |p| sqlx::query_as(&sql).bind(user_id).bind(at).fetch_all(p).await?);
    Ok(rows.into_iter().map(subject_session).collect())
}

/// The session with this key, live or not.
pub async fn session(db: &Db, key: &str) -> Result<Option<SubjectSession>> {
    let schema = schema(db)?;
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let sql = format!(
        "SELECT {} FROM {t} WHERE {}",
        session_columns(schema)?,
        which_sql(schema, db.backend(), Which::Session(key))?
    );
    let row: Option<SessionTuple> = with_db!(db, |p| sqlx::query_as(&sql).bind(key).fetch_optional(p).await?);
    Ok(row.map(subject_session))
}

/// Ends the sessions `which` takes, in `style`, and returns them as they were. [`RevokeStyle::Expire`]
/// takes only sessions whose expiry is still ahead by the database's clock (the others are over).
pub async fn end_sessions(
    tx: &mut Tx,
    schema: &LibrarySchema,
    which: Which<'_>,
    style: RevokeStyle,
) -> Result<Vec<SubjectSession>> {
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let cond = which_sql(schema, tx.backend(), which)?;
    let cols = session_columns(schema)?;
    let value = which_value(which);
    let rows: Vec<SessionTuple> = match style {
        RevokeStyle::Delete => {
            let sql = format!("DELETE FROM {t} WHERE {cond} RETURNING {cols}");
            with_tx!(tx, |c| sqlx::query_as(&sql).bind(value).fetch_all(c).await?)
        }
        RevokeStyle::Expire => {
            if tx.backend() != Backend::Postgres {
                return Err(Error::SchemaIncompatible(
                    "keeping ended sessions' rows is done on PostgreSQL only; end them by deleting their rows".into(),
                ));
            }
            let expires = required(schema, TableRole::Session, schema.library.expiry_field())?;
            // The database's own clock, read as each row is taken (after any wait for its lock): a row
            // another caller expired a moment ago is never taken again, whatever this caller's `now`.
            let clock = match schema.dates {
                DateStyle::TimestampUtc => "(clock_timestamp() AT TIME ZONE 'UTC')",
                _ => "clock_timestamp()",
            };
            let mut set = format!("{expires} = {clock}");
            if let Some(updated) = column(schema, TableRole::Session, "updatedAt") {
                set.push_str(&format!(", {updated} = {clock}"));
            }
            let list = session_column_list(schema)?;
            let aliased: Vec<String> = list.iter().enumerate().map(|(i, c)| format!("{c} AS c{i}")).collect();
            let names: Vec<String> = (0..list.len()).map(|i| format!("c{i}")).collect();
            // The rows as they were before (the history keeps their real expiry), changed by `done`.
            let sql = format!(
                "WITH taken AS (SELECT {key} AS k, {aliased} FROM {t} WHERE {cond} AND {expires} > {clock} FOR UPDATE), \
                 done AS (UPDATE {t} SET {set} WHERE {key} IN (SELECT k FROM taken)) SELECT {names} FROM taken",
                key = session_identity(schema)?,
                aliased = aliased.join(", "),
                names = names.join(", ")
            );
            with_tx!(tx, |c| sqlx::query_as(&sql).bind(value).fetch_all(c).await?)
        }
    };
    Ok(rows.into_iter().map(subject_session).collect())
}

/// Which of the library's sessions a listing, a count or a bulk end takes, across users: every
/// condition set must hold. The default takes every session (the emergency sign-out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Across {
    /// One user's, by the library's id.
    pub user_id: Option<String>,
    /// Those whose recorded address is this one.
    pub ip: Option<String>,
    /// Begun at or after this instant.
    pub created_from: Option<Millis>,
    /// Begun before this instant.
    pub created_to: Option<Millis>,
    /// Only the application's staff's (Better Auth's admin-plugin role holding `admin`).
    pub admins_only: bool,
}

impl Across {
    /// Every session: the emergency sign-out.
    pub fn everyone() -> Across {
        Across::default()
    }

    /// Those of one address.
    pub fn ip(ip: impl Into<String>) -> Across {
        Across {
            ip: Some(ip.into()),
            ..Across::default()
        }
    }

    pub fn is_everyone(&self) -> bool {
        *self == Across::default()
    }
}

/// A statement's bound values, numbered `$1`, `$2`, … in the order they are added.
#[derive(Default)]
struct Args(Vec<Arg>);

enum Arg {
    Text(String),
    Int(i64),
}

impl Args {
    /// Adds a text value; returns its number.
    fn text(&mut self, v: &str) -> usize {
        self.0.push(Arg::Text(v.to_owned()));
        self.0.len()
    }

    /// Adds an integer value; returns its number.
    fn int(&mut self, v: i64) -> usize {
        self.0.push(Arg::Int(v));
        self.0.len()
    }
}

/// Binds every value of an [`Args`] to a query, in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in &$args.0 {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// The condition on the session table of `across` and `status` (by the expiry against `now`), its
/// values added to `args`.
fn across_sql(
    schema: &LibrarySchema,
    backend: Backend,
    across: &Across,
    status: SubjectSessionStatus,
    now: Millis,
    args: &mut Args,
) -> Result<String> {
    let s = TableRole::Session;
    let mut cond = Vec::new();
    let expires = required(schema, s, schema.library.expiry_field())?;
    let at = |args: &mut Args, t: Millis| instant_sql(schema.dates, args.int(instant(schema.dates, t)));
    match status {
        SubjectSessionStatus::Live => cond.push(format!("{expires} > {}", at(args, now))),
        SubjectSessionStatus::Over => cond.push(format!("{expires} <= {}", at(args, now))),
        SubjectSessionStatus::All => {}
    }
    if let Some(ip) = &across.ip {
        let ip_col = column(schema, s, "ipAddress").ok_or_else(|| {
            Error::invalid(
                "ip",
                format!(
                    "{} sessions record no address: they cannot be told apart by it",
                    schema.library.name()
                ),
            )
        })?;
        cond.push(format!("{ip_col} = ${}", args.text(ip)));
    }
    if let Some(user) = &across.user_id {
        let n = args.text(user);
        cond.push(format!(
            "{} = {}",
            required(schema, s, "userId")?,
            user_id_param(schema, backend, n)
        ));
    }
    if across.created_from.is_some() || across.created_to.is_some() {
        let created = column(schema, s, "createdAt").ok_or_else(|| {
            Error::invalid(
                "created_from",
                format!(
                    "{} sessions record no creation time: they cannot be chosen by when they began",
                    schema.library.name()
                ),
            )
        })?;
        if let Some(from) = across.created_from {
            cond.push(format!("{created} >= {}", at(args, from)));
        }
        if let Some(to) = across.created_to {
            cond.push(format!("{created} < {}", at(args, to)));
        }
    }
    if across.admins_only {
        cond.push(staff_sql(schema)?);
    }
    Ok(if cond.is_empty() {
        "1 = 1".to_owned()
    } else {
        cond.join(" AND ")
    })
}

/// How many live sessions, of how many users, `across` takes now.
pub async fn count_across(db: &Db, across: &Across, now: Millis) -> Result<(i64, i64)> {
    count(db, across, SubjectSessionStatus::Live, now).await
}

/// How many sessions, of how many users, `across` and `status` take now.
pub async fn count(db: &Db, across: &Across, status: SubjectSessionStatus, now: Millis) -> Result<(i64, i64)> {
    let schema = schema(db)?;
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let mut args = Args::default();
    let sql = format!(
        "SELECT count(*), count(DISTINCT {}) FROM {t} WHERE {}",
        required(schema, TableRole::Session, "userId")?,
        across_sql(schema, db.backend(), across, status, now, &mut args)?
    );
    Ok(with_db!(db, |p| bind_args!(sqlx::query_as(&sql), args)
        .fetch_one(p)
        .await?))
}

/// How a page of sessions across users is ordered: newest first by when they began, where the schema
/// records it, else by their expiry; the key breaks ties. The instant is read as whole milliseconds (0
/// when missing), the very number the cursor carries, so a cursor never repeats nor skips a row whatever
/// finer precision the column holds.
fn page_order(schema: &LibrarySchema) -> Result<String> {
    let column = match column(schema, TableRole::Session, "createdAt") {
        Some(c) => c,
        None => required(schema, TableRole::Session, schema.library.expiry_field())?,
    };
    Ok(format!("COALESCE({}, 0)", millis_sql(schema.dates, &column)))
}

/// Up to `limit` sessions `across` and `status` take, newest first, after the session at `after`
/// (its instant in the page's order, and its key), each with its user's email.
pub async fn sessions_page(
    db: &Db,
    across: &Across,
    status: SubjectSessionStatus,
    now: Millis,
    after: Option<(Millis, &str)>,
    limit: u32,
) -> Result<Vec<(SubjectSession, Option<String>)>> {
    let schema = schema(db)?;
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let u = table(schema, TableRole::User).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let mut args = Args::default();
    let mut cond = across_sql(schema, db.backend(), across, status, now, &mut args)?;
    let order = page_order(schema)?;
    let key = session_key_sql(schema)?;
    if let Some((at, k)) = after {
        let at = args.int(at);
        let k = args.text(k);
        cond = format!("{cond} AND ({order} < ${at} OR ({order} = ${at} AND {key} < ${k}))");
    }
    let limit = args.int(i64::from(limit) + 1);
    // The email by a lookup per row on the user table's primary key (the names of the two tables' columns
    // overlap, so no join: each column here is the session table's).
    let sql = format!(
        "SELECT {cols}, (SELECT w.{email} FROM {u} w WHERE w.{uid} = {t}.{user_id}) FROM {t} WHERE {cond} \
         ORDER BY {order} DESC, {key} DESC LIMIT ${limit}",
        cols = session_columns(schema)?,
        email = required(schema, TableRole::User, "email")?,
        uid = required(schema, TableRole::User, "id")?,
        user_id = required(schema, TableRole::Session, "userId")?,
    );
    let rows: Vec<RowTuple> = with_db!(db, |p| bind_args!(sqlx::query_as(&sql), args).fetch_all(p).await?);
    Ok(rows
        .into_iter()
        .map(|(k, u, c, e, i, a, imp, email)| (subject_session((k, u, c, e, i, a, imp)), email))
        .collect())
}

/// A [`SessionTuple`] and the user's email.
type RowTuple = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The instant a session stands at in [`sessions_page`]'s order: its start, or its expiry where the
/// schema records no start.
pub fn page_instant(schema: &LibrarySchema, s: &SubjectSession) -> Millis {
    if schema
        .table(TableRole::Session)
        .is_some_and(|t| t.columns.has("createdAt"))
    {
        s.created_at.unwrap_or(0)
    } else {
        s.expires_at.unwrap_or(0)
    }
}

/// Deletes up to `limit` of the live sessions `across` takes, and returns them as they were. Rows
/// another transaction holds are left for a later batch (PostgreSQL's `SKIP LOCKED`), so concurrent
/// batches never wait on each other nor end a session twice.
pub async fn end_batch(
    tx: &mut Tx,
    schema: &LibrarySchema,
    across: &Across,
    limit: u32,
    now: Millis,
) -> Result<Vec<SubjectSession>> {
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    // The row's identity: its id, or its token (unique in both libraries; it never leaves the statement).
    let key = session_identity(schema)?;
    let skip = if tx.backend() == Backend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let mut args = Args::default();
    let cond = across_sql(schema, tx.backend(), across, SubjectSessionStatus::Live, now, &mut args)?;
    let limit = args.int(i64::from(limit));
    let sql = format!(
        "DELETE FROM {t} WHERE {key} IN (SELECT {key} FROM {t} WHERE {cond} LIMIT ${limit}{skip}) RETURNING {cols}",
        cols = session_columns(schema)?
    );
    let rows: Vec<SessionTuple> = with_tx!(tx, |c| bind_args!(sqlx::query_as(&sql), args).fetch_all(c).await?);
    Ok(rows.into_iter().map(subject_session).collect())
}

/// The condition of live sessions begun at or before `$1` (an instant in the library's form), expiring
/// after `$2`.
fn past_cap_sql(schema: &LibrarySchema) -> Result<String> {
    let created = column(schema, TableRole::Session, "createdAt").ok_or_else(|| {
        Error::SchemaIncompatible(format!(
            "{} sessions record no creation time: a lifetime cap cannot be told from them",
            schema.library.name()
        ))
    })?;
    let expires = required(schema, TableRole::Session, schema.library.expiry_field())?;
    Ok(format!(
        "{created} <= {} AND {expires} > {}",
        instant_sql(schema.dates, 1),
        instant_sql(schema.dates, 2)
    ))
}

/// With `staff_only`, the condition that a session is one of the application's staff (Better Auth's
/// admin-plugin role holding `admin`, as [`SubjectUser::is_staff`] reads it); otherwise nothing.
fn staff_only_sql(schema: &LibrarySchema, staff_only: bool) -> Result<String> {
    Ok(if staff_only {
        format!(" AND {}", staff_sql(schema)?)
    } else {
        String::new()
    })
}

/// The condition that a session is one of the application's staff: its user's role, a comma-separated
/// list, holds `admin` (in any case, spaces aside), as [`SubjectUser::is_staff`] reads it.
fn staff_sql(schema: &LibrarySchema) -> Result<String> {
    let users = table(schema, TableRole::User).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let role = column(schema, TableRole::User, "role").ok_or_else(|| {
        Error::invalid(
            "admins_only",
            format!(
                "this {} schema has no role column (Better Auth's admin plugin): its admins cannot be told apart",
                schema.library.name()
            ),
        )
    })?;
    Ok(format!(
        "{} IN (SELECT {} FROM {users} WHERE {})",
        required(schema, TableRole::Session, "userId")?,
        required(schema, TableRole::User, "id")?,
        admin_role_sql(&role),
    ))
}

/// Deletes up to `limit` live sessions begun at or before `born_by` (past their lifetime cap), as the
/// library deletes a session, and returns them as they were; with `staff_only`, only the application's
/// staff's (their cap is the privileged one).
pub async fn end_past_cap(
    tx: &mut Tx,
    schema: &LibrarySchema,
    born_by: Millis,
    now: Millis,
    limit: u32,
    staff_only: bool,
) -> Result<Vec<SubjectSession>> {
    if tx.backend() != Backend::Postgres {
        return Err(Error::SchemaIncompatible(
            "the caps are enforced on PostgreSQL databases".into(),
        ));
    }
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let key = session_identity(schema)?;
    let sql = format!(
        "DELETE FROM {t} WHERE {key} IN (SELECT {key} FROM {t} WHERE {cond}{staff} LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING {cols}",
        cond = past_cap_sql(schema)?,
        staff = staff_only_sql(schema, staff_only)?,
        cols = session_columns(schema)?
    );
    let (born_by, now) = (instant(schema.dates, born_by), instant(schema.dates, now));
    let rows: Vec<SessionTuple> = with_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(born_by)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await?);
    Ok(rows.into_iter().map(subject_session).collect())
}

/// Brings forward, for up to `limit` live sessions, an expiry later than their creation plus `cap_ms`
/// to exactly that, so the library itself refuses each one when its cap comes, between sweeps. Returns
/// how many it changed; with `staff_only`, only the application's staff's sessions.
pub async fn shorten_to_cap(
    tx: &mut Tx,
    schema: &LibrarySchema,
    cap_ms: i64,
    now: Millis,
    limit: u32,
    staff_only: bool,
) -> Result<u64> {
    if tx.backend() != Backend::Postgres {
        return Err(Error::SchemaIncompatible(
            "the caps are enforced on PostgreSQL databases".into(),
        ));
    }
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let key = session_identity(schema)?;
    let created = required(schema, TableRole::Session, "createdAt")?;
    let expires = required(schema, TableRole::Session, schema.library.expiry_field())?;
    let cap = format!("({created} + make_interval(secs => $1::float8 / 1000))");
    let sql = format!(
        "UPDATE {t} SET {expires} = {cap} WHERE {key} IN (SELECT {key} FROM {t} WHERE {expires} > {cap} \
         AND {expires} > {now}{staff} LIMIT $3 FOR UPDATE SKIP LOCKED)",
        now = instant_sql(schema.dates, 2),
        staff = staff_only_sql(schema, staff_only)?
    );
    let now = instant(schema.dates, now);
    Ok(with_tx!(tx, |c| sqlx::query(&sql)
        .bind(cap_ms)
        .bind(now)
        .bind(i64::from(limit))
        .execute(c)
        .await?
        .rows_affected()))
}

/// Copies ended sessions into Warden's `library_sessions_ended`, with the audit event that ended them.
pub async fn record_ended(
    tx: &mut Tx,
    ended: &[SubjectSession],
    at: Millis,
    reason: RevokeReason,
    audit_seq: i64,
) -> Result<()> {
    if ended.is_empty() {
        return Ok(());
    }
    if let Tx::Postgres(t) = tx {
        // One statement for the whole batch: a row per session, from arrays.
        let col = |f: fn(&SubjectSession) -> Option<String>| ended.iter().map(f).collect::<Vec<_>>();
        let num = |f: fn(&SubjectSession) -> Option<i64>| ended.iter().map(f).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO library_sessions_ended (session_key, user_key, created_at, expires_at, ip, user_agent, \
             ended_at, reason, audit_seq) \
             SELECT k, u, c, e, i, a, $7, $8, $9 FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], \
             $5::text[], $6::text[]) AS s(k, u, c, e, i, a)",
        )
        .bind(col(|s| Some(s.key.clone())))
        .bind(col(|s| Some(s.user_id.clone())))
        .bind(num(|s| s.created_at))
        .bind(num(|s| s.expires_at))
        .bind(col(|s| s.ip.clone()))
        .bind(col(|s| s.user_agent.clone()))
        .bind(at)
        .bind(reason.as_str())
        .bind(audit_seq)
        .execute(&mut **t)
        .await?;
        return Ok(());
    }
    for s in ended {
        with_tx!(tx, |c| sqlx::query(
            "INSERT INTO library_sessions_ended (session_key, user_key, created_at, expires_at, ip, user_agent, \
             ended_at, reason, audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&s.key)
        .bind(&s.user_id)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(at)
        .bind(reason.as_str())
        .bind(audit_seq)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(())
}

/// One row of `library_sessions_ended`: the session's fields, then when and why it ended.
type EndedTuple = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    String,
);

/// The sessions of one user that Warden ended, newest first.
pub async fn ended_of(db: &Db, user_id: &str, limit: u32) -> Result<Vec<EndedSession>> {
    let rows: Vec<EndedTuple> = with_db!(db, |p| sqlx::query_as(
        "SELECT session_key, user_key, created_at, expires_at, ip, user_agent, ended_at, reason \
         FROM library_sessions_ended WHERE user_key = $1 ORDER BY ended_at DESC, id DESC LIMIT $2"
    )
    .bind(user_id)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await?);
    Ok(rows.into_iter().map(ended_session).collect())
}

fn ended_session(t: EndedTuple) -> EndedSession {
    let (key, user_id, created_at, expires_at, ip, user_agent, ended_at, reason) = t;
    EndedSession {
        session: SubjectSession {
            key,
            user_id,
            created_at,
            expires_at,
            ip,
            user_agent,
            impersonated_by: None,
        },
        ended_at,
        reason,
    }
}

/// Reads one user under a row lock (PostgreSQL) for a change computed from it.
pub async fn user_for_update(tx: &mut Tx, schema: &LibrarySchema, user_id: &str) -> Result<Option<SubjectUser>> {
    let t = table(schema, TableRole::User).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let lock = if tx.backend() == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} FROM {t} WHERE {} = {}{lock}",
        user_columns(schema)?,
        required(schema, TableRole::User, "id")?,
        user_id_param(schema, tx.backend(), 1)
    );
    let row: Option<UserTuple> = with_tx!(tx, |c| sqlx::query_as(&sql).bind(user_id).fetch_optional(c).await?);
    Ok(row.map(subject_user))
}

/// Sets (or, with `ban: None`, lifts) Better Auth's admin-plugin ban on one user: `banned`,
/// `banReason`, `banExpires`, and `updatedAt`, as its `banUser` and `unbanUser` do.
pub async fn set_ban(
    tx: &mut Tx,
    schema: &LibrarySchema,
    user_id: &str,
    ban: Option<(&str, Option<Millis>)>,
    now: Millis,
) -> Result<()> {
    if !schema.plugins.admin {
        return Err(Error::SchemaIncompatible(format!(
            "banning needs Better Auth's admin plugin (its `banned`, `banReason` and `banExpires` fields); this {} has none",
            schema.title()
        )));
    }
    let u = TableRole::User;
    let t = table(schema, u).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let banned = required(schema, u, "banned")?;
    let reason = required(schema, u, "banReason")?;
    let expires = required(schema, u, "banExpires")?;
    let updated = required(schema, u, "updatedAt")?;
    let id = required(schema, u, "id")?;
    let sql = format!(
        "UPDATE {t} SET {banned} = $2, {reason} = $3, {expires} = CASE WHEN $4 THEN {at5} ELSE NULL END, \
         {updated} = {at6} WHERE {id} = {param}",
        at5 = instant_sql(schema.dates, 5),
        at6 = instant_sql(schema.dates, 6),
        param = user_id_param(schema, tx.backend(), 1)
    );
    let (on, why, until) = match ban {
        Some((why, until)) => (true, Some(why), until),
        None => (false, None, None),
    };
    // An unused expiry still binds a value of the right kind.
    let until_at = instant(schema.dates, until.unwrap_or(now));
    let now_at = instant(schema.dates, now);
    let native_bool = tx.backend() == Backend::Postgres;
    with_tx!(tx, |c| {
        let q = sqlx::query(&sql).bind(user_id);
        // PostgreSQL's boolean; SQLite's 0 or 1.
        let q = if native_bool { q.bind(on) } else { q.bind(i64::from(on)) };
        let q = q.bind(why).bind(until.is_some()).bind(until_at).bind(now_at);
        q.execute(c).await?.rows_affected()
    });
    Ok(())
}

/// Turns two-factor off for one user as Better Auth's twoFactor plugin does: its `twoFactor` row goes
/// and `twoFactorEnabled` is cleared. Returns whether a secret was there.
pub async fn reset_two_factor(tx: &mut Tx, schema: &LibrarySchema, user_id: &str) -> Result<bool> {
    if !schema.plugins.two_factor {
        return Err(Error::SchemaIncompatible(format!(
            "two-factor lives in Better Auth's twoFactor plugin (its `twoFactor` table and `twoFactorEnabled`); \
             this {} has none",
            schema.title()
        )));
    }
    let tf = table(schema, TableRole::TwoFactor).ok_or_else(|| Error::Unexpected("no twoFactor table".into()))?;
    let param = user_id_param(schema, tx.backend(), 1);
    let delete = format!(
        "DELETE FROM {tf} WHERE {} = {param}",
        required(schema, TableRole::TwoFactor, "userId")?
    );
    let removed = with_tx!(tx, |c| sqlx::query(&delete)
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected());
    let u = table(schema, TableRole::User).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let clear = format!(
        "UPDATE {u} SET {} = {} WHERE {} = {param}",
        required(schema, TableRole::User, "twoFactorEnabled")?,
        if tx.backend() == Backend::Postgres {
            "false"
        } else {
            "0"
        },
        required(schema, TableRole::User, "id")?
    );
    with_tx!(tx, |c| sqlx::query(&clear)
        .bind(user_id)
        .execute(c)
        .await?
        .rows_affected());
    Ok(removed > 0)
}

/// The users' counts of the overview, in one read of the user table: all of them, those unverified,
/// banned at `now`, with two-factor on, and the application's admins (`None`: the schema lacks it).
pub async fn user_counts(db: &Db, now: Millis) -> Result<(i64, i64, Option<i64>, Option<i64>, Option<i64>)> {
    let schema = schema(db)?;
    let u = TableRole::User;
    let t = table(schema, u).ok_or_else(|| Error::Unexpected("no user table".into()))?;
    let mut args = Args::default();
    let sum = |cond: String| format!("CAST(COALESCE(sum(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let banned = match (column(schema, u, "banned"), column(schema, u, "banExpires")) {
        (Some(b), Some(e)) => {
            let at = instant_sql(schema.dates, args.int(instant(schema.dates, now)));
            sum(format!("{b} AND ({e} IS NULL OR {e} > {at})"))
        }
        (Some(b), None) => sum(b),
        _ => "CAST(NULL AS BIGINT)".into(),
    };
    let two_factor = column(schema, u, "twoFactorEnabled")
        .map(&sum)
        .unwrap_or_else(|| "CAST(NULL AS BIGINT)".into());
    let admins = column(schema, u, "role")
        .map(|r| sum(admin_role_sql(&r)))
        .unwrap_or_else(|| "CAST(NULL AS BIGINT)".into());
    let sql = format!(
        "SELECT count(*), {unverified}, {banned}, {two_factor}, {admins} FROM {t}",
        unverified = sum(format!("({}) = 0", verified_sql(schema))),
    );
    Ok(with_db!(db, |p| bind_args!(sqlx::query_as(&sql), args)
        .fetch_one(p)
        .await?))
}

/// Sessions begun per hour from `from` on: each hour's start (unix ms) and how many; `None` where the
/// sessions record no start. Only hours with sessions are returned.
pub async fn begun_by_hour(db: &Db, from: Millis) -> Result<Option<Vec<(Millis, i64, i64)>>> {
    let schema = schema(db)?;
    let Some(created) = column(schema, TableRole::Session, "createdAt") else {
        return Ok(None);
    };
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let mut args = Args::default();
    let at = instant_sql(schema.dates, args.int(instant(schema.dates, from)));
    let ms = millis_sql(schema.dates, &created);
    let sql = format!(
        "SELECT CAST(({ms}) / 3600000 * 3600000 AS BIGINT) AS hour, count(*), CAST(0 AS BIGINT) FROM {t} \
         WHERE {created} >= {at} GROUP BY 1 ORDER BY 1"
    );
    Ok(Some(with_db!(db, |p| bind_args!(sqlx::query_as(&sql), args)
        .fetch_all(p)
        .await?)))
}

/// The addresses holding the most live sessions at `now`, at most `limit`, with their sessions and
/// users; none where the sessions record no address.
pub async fn top_addresses(db: &Db, now: Millis, limit: u32) -> Result<Vec<(String, i64, i64)>> {
    let schema = schema(db)?;
    let Some(ip) = column(schema, TableRole::Session, "ipAddress") else {
        return Ok(Vec::new());
    };
    let t = table(schema, TableRole::Session).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let mut args = Args::default();
    let live = across_sql(
        schema,
        db.backend(),
        &Across::everyone(),
        SubjectSessionStatus::Live,
        now,
        &mut args,
    )?;
    let n = args.int(i64::from(limit));
    let sql = format!(
        "SELECT {ip}, count(*), count(DISTINCT {user}) FROM {t} WHERE {live} AND {ip} IS NOT NULL AND {ip} <> '' \
         GROUP BY {ip} ORDER BY 2 DESC, 1 LIMIT ${n}",
        user = required(schema, TableRole::Session, "userId")?,
    );
    Ok(with_db!(db, |p| bind_args!(sqlx::query_as(&sql), args)
        .fetch_all(p)
        .await?))
}

/// The session rows of one user, live or over, begun by `to` and expiring at `from` or later (those
/// a timeline of that range shows), newest first, at most `limit`; `None` where sessions record no start.
pub async fn sessions_of_in(
    db: &Db,
    user_id: &str,
    from: Millis,
    to: Millis,
    limit: u32,
) -> Result<Option<Vec<SubjectSession>>> {
    let schema = schema(db)?;
    let s = TableRole::Session;
    let Some(created) = column(schema, s, "createdAt") else {
        return Ok(None);
    };
    let t = table(schema, s).ok_or_else(|| Error::Unexpected("no session table".into()))?;
    let mut args = Args::default();
    let user = user_id_param(schema, db.backend(), args.text(user_id));
    let to = instant_sql(schema.dates, args.int(instant(schema.dates, to)));
    let from = instant_sql(schema.dates, args.int(instant(schema.dates, from)));
    let limit = args.int(i64::from(limit));
    let sql = format!(
        "SELECT {cols} FROM {t} WHERE {user_col} = {user} AND {created} <= {to} AND {expires} >= {from} \
         ORDER BY {created} DESC LIMIT ${limit}",
        cols = session_columns(schema)?,
        user_col = required(schema, s, "userId")?,
        expires = required(schema, s, schema.library.expiry_field())?,
    );
    let rows: Vec<SessionTuple> = with_db!(db, |p| bind_args!(sqlx::query_as(&sql), args).fetch_all(p).await?);
    Ok(Some(rows.into_iter().map(subject_session).collect()))
}

/// The sessions of one user that Warden ended at `from` or later and that began by `to`, newest first.
pub async fn ended_in(db: &Db, user_id: &str, from: Millis, to: Millis, limit: u32) -> Result<Vec<EndedSession>> {
    let rows: Vec<EndedTuple> = with_db!(db, |p| {
        sqlx::query_as(
        "SELECT session_key, user_key, created_at, expires_at, ip, user_agent, ended_at, reason \
         FROM library_sessions_ended WHERE user_key = $1 AND ended_at >= $2 AND (created_at IS NULL OR created_at <= $3) \
         ORDER BY ended_at DESC, id DESC LIMIT $4"
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(i64::from(limit))
    .fetch_all(p)
    .await?
    });
    Ok(rows.into_iter().map(ended_session).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_key_is_the_start_of_its_hash_and_never_the_token() {
        let k = token_key("secret-session-token");
        assert!(k.starts_with("sha256:"));
        assert_eq!(k.len(), "sha256:".len() + 16);
        assert!(!k.contains("secret"));
        assert_eq!(k, token_key("secret-session-token"));
    }
}
