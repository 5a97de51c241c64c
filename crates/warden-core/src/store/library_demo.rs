//! A demo data set in Better Auth's shape (`warden demo --schema better-auth`): the library's own schema
//! (`better_auth_schema.sql`, as its migration creates it, with the admin and twoFactor plugins) filled
//! on PostgreSQL by set-based statements, so that a million users and five million sessions take minutes.
//! Deterministic for a size and a reference time; the ids, emails and tokens are derived from the row
//! numbers (tokens are random-looking but public: demo data only).

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};
use crate::store::{Db, Pool};

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct BetterAuthDemo {
    pub users: u32,
    pub sessions_per_user: u32,
    /// Sessions of one more account, `busy@example.test` (the revoke-all benchmark's).
    pub busy_sessions: u32,
    pub now: Millis,
}

/// Creates Better Auth's tables in an empty PostgreSQL database and fills them. Returns the session rows
/// made.
pub async fn fill_better_auth(db: &Db, d: &BetterAuthDemo) -> Result<i64> {
    let Pool::Postgres(p) = &db.pool else {
        return Err(Error::SchemaIncompatible(
            "the Better Auth demo is made on PostgreSQL, where Warden adopts a library's database".into(),
        ));
    };
    sqlx::raw_sql(include_str!("better_auth_schema.sql")).execute(p).await?;
    // Users: created over the past year, one in ten unverified, one in seven with two-factor, one in
    // five hundred banned, the first five admins.
    sqlx::query(
        "INSERT INTO \"user\" (id, name, email, \"emailVerified\", \"createdAt\", \"updatedAt\", role, banned, \
         \"banReason\", \"twoFactorEnabled\") \
         SELECT md5('u' || i), 'User ' || i, 'user' || i || '@example.test', i % 10 <> 0, \
                to_timestamp(($1 - (i::bigint * 7919 % 31536000000)) / 1000.0), to_timestamp($1 / 1000.0), \
                CASE WHEN i <= 5 THEN 'admin' ELSE 'user' END, i % 500 = 0, \
                CASE WHEN i % 500 = 0 THEN 'spam' END, i % 7 = 0 \
         FROM generate_series(1, $2::int) i",
    )
    .bind(d.now)
    .bind(d.users as i32)
    .execute(p)
    .await?;
    sqlx::query(
        "INSERT INTO \"user\" (id, name, email, \"emailVerified\", \"createdAt\", \"updatedAt\", role, banned, \
         \"twoFactorEnabled\") VALUES (md5('busy'), 'Busy Account', 'busy@example.test', true, \
         to_timestamp($1 / 1000.0 - 31536000), to_timestamp($1 / 1000.0), 'user', false, false)",
    )
    .bind(d.now)
    .execute(p)
    .await?;
    // Sessions: begun over the past 30 days, each lasting 7 (so most are over), from five kinds of device.
    let sessions = "INSERT INTO session (id, \"expiresAt\", token, \"createdAt\", \"updatedAt\", \"ipAddress\", \
         \"userAgent\", \"userId\") \
         SELECT md5('s' || u || '-' || k), c + interval '7 days', md5('t' || u || '-' || k), c, c, \
                '10.' || (u / 65536 % 256) || '.' || (u / 256 % 256) || '.' || (u % 256), \
                (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36', \
                       'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', \
                       'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148', \
                       'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36', \
                       'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'])[1 + (u + k) % 5], \
                USER_ID \
         FROM generate_series(1, $2::int) u, generate_series(1, $3::int) k, \
              LATERAL (SELECT to_timestamp(($1 - ((u::bigint * 7919 + k * 104729) % 2592000000)) / 1000.0) AS c) t";
    sqlx::query(&sessions.replace("USER_ID", "md5('u' || u)"))
        .bind(d.now)
        .bind(d.users as i32)
        .bind(d.sessions_per_user as i32)
        .execute(p)
        .await?;
    // The busy account: its sessions all live (begun over the past day).
    sqlx::query(
        &sessions
            .replace("USER_ID", "md5('busy')")
            .replace("md5('s' || u", "md5('busy-s' || u")
            .replace("md5('t' || u", "md5('busy-t' || u")
            .replace("% 2592000000", "% 86400000"),
    )
    .bind(d.now)
    .bind(d.busy_sessions as i32)
    .bind(1_i32)
    .execute(p)
    .await?;
    sqlx::raw_sql("ANALYZE \"user\"; ANALYZE session;").execute(p).await?;
    Ok(sqlx::query_scalar("SELECT count(*) FROM session").fetch_one(p).await?)
}
