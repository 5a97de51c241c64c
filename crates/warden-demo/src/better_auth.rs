//! The demo data set in Better Auth's shape (`warden demo --schema better-auth`): the library's own tables
//! filled with a million users and their sessions if asked (`store::library_demo`), then adopted by
//! Warden with a security admin for the console. What the benchmarks of an adopted database run on.

use std::time::Instant;

use serde::Serialize;
use warden_core::model::authz::Admin;
use warden_core::model::clock::Millis;
use warden_core::ops::auth::{self, NewAccount};
use warden_core::ops::library::{self, TableNames};
use warden_core::store::library_demo::{fill_better_auth, BetterAuthDemo};
use warden_core::{Db, Result, Role, Secret};

/// The console's sign-in on the adopted demo (demo data only).
pub const ADMIN_EMAIL: &str = "admin@warden.demo";

#[derive(Debug, Clone, Serialize)]
pub struct BetterAuthReport {
    pub users: u32,
    pub sessions: i64,
    pub busy_email: &'static str,
    pub busy_sessions: u32,
    pub admin_email: &'static str,
    pub admin_password: String,
    pub elapsed_ms: u128,
}

/// Makes Better Auth's tables in the empty PostgreSQL database of `db`, fills them, adopts the database
/// and adds the security admin. `users` users with `sessions_per_user` sessions each, and
/// `busy@example.test` with `busy_sessions` live ones.
pub async fn generate(
    db: &Db,
    admin: &Admin,
    users: u32,
    sessions_per_user: u32,
    busy_sessions: u32,
    now: Millis,
) -> Result<BetterAuthReport> {
    let started = Instant::now();
    let sessions = fill_better_auth(
        db,
        &BetterAuthDemo {
            users,
            sessions_per_user,
            busy_sessions,
            now,
        },
    )
    .await?;
    let adopted = library::adopt(db, admin, now, None, &TableNames::new()).await?;
    // Nothing of the email or the name in it (the password policy refuses that).
    let password = format!("Harbor-{:06}-Lantern", rand::random::<u32>() % 1_000_000);
    auth::sign_up(
        &adopted.db,
        now,
        &NewAccount {
            email: ADMIN_EMAIL,
            name: "Security Admin",
            password: &Secret::new(password.clone()),
            role: Role::SecurityAdmin,
            verified: true,
            ip: None,
        },
    )
    .await?;
    adopted.db.close().await;
    Ok(BetterAuthReport {
        users,
        sessions,
        busy_email: "busy@example.test",
        busy_sessions,
        admin_email: ADMIN_EMAIL,
        admin_password: password,
        elapsed_ms: started.elapsed().as_millis(),
    })
}
