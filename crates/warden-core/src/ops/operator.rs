//! The CLI's operator: the one place a door gets a capability without a session. Whoever can reach the
//! database URL from a shell holds the keys anyway, so the CLI acts as a security admin; every action it
//! takes is audited with the OS user and host (`ActorKind::Cli`).

use crate::model::authz::{Actor, Admin, Permission, Staff};
use crate::model::clock::Millis;
use crate::model::error::Result;

/// The security admin's capability of the `warden` command line, authenticated at `now` (each
/// invocation).
pub fn cli(now: Millis) -> Result<Admin> {
    Staff::verified(Actor::cli(now))?.admin_for(Permission::ChangePolicy)
}
