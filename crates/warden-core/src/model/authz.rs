//! Who acts, and what each role may do. Every state-changing core function takes an [`Actor`] and asks
//! [`Actor::require`] before it touches anything; the permission table lives here and nowhere else.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::clock::Millis;
use crate::model::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Role {
    User,
    Support,
    SecurityAdmin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: &'static [Role] = &[Role::User, Role::Support, Role::SecurityAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Support => "support",
            Role::SecurityAdmin => "security_admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "user" => Ok(Role::User),
            "support" => Ok(Role::Support),
            "security_admin" | "security-admin" | "admin" => Ok(Role::SecurityAdmin),
            _ => Err(Error::invalid("role", "must be user, support or security_admin")),
        }
    }

    /// Support and security admins get privileged sessions (the shorter `privileged.*` policy).
    pub fn is_privileged(self) -> bool {
        !matches!(self, Role::User)
    }

    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::SecurityAdmin => true,
            Role::Support => matches!(
                p,
                ViewUsers | ViewSessions | ViewAudit | UnlockUser | RevokeUserSessions | ResetTotp | ReviewFlags
            ),
            Role::User => false,
        }
    }

    /// The refusal of `p` to this role, naming both.
    fn forbidden(self, p: Permission) -> Error {
        Error::Forbidden(format!("the {} role may not {}", self.as_str(), p.describe()))
    }
}

/// What an admin action needs. Support: view, unlock, end a user's sessions, reset two-factor.
/// Security admin: also policy, bulk and emergency termination, audit verification and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ViewUsers,
    ViewSessions,
    ViewAudit,
    UnlockUser,
    RevokeUserSessions,
    ResetTotp,
    BulkRevokeSessions,
    ChangePolicy,
    VerifyAudit,
    ManageUsers,
    ReviewFlags,
    BanUsers,
}

impl Permission {
    pub fn describe(self) -> &'static str {
        use Permission::*;
        match self {
            ViewUsers => "view users",
            ViewSessions => "view sessions",
            ViewAudit => "read the audit log",
            UnlockUser => "unlock accounts",
            RevokeUserSessions => "end a user's sessions",
            ResetTotp => "reset two-factor",
            BulkRevokeSessions => "terminate sessions in bulk",
            ChangePolicy => "change the policy",
            VerifyAudit => "verify or export the audit log",
            ManageUsers => "manage users",
            ReviewFlags => "review suspicious-activity flags",
            BanUsers => "ban or unban users",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person signed in to the console or the HTTP API.
    User,
    /// An operator at the command line (the OS user on a host that holds the database URL).
    Cli,
    /// The engine itself (expiry, demo generation).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Cli => "cli",
            ActorKind::System => "system",
        }
    }
}

/// Who performs an action: recorded in every audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub kind: ActorKind,
    /// Email for users, `os-user@host` for the CLI, `warden` for the system.
    pub label: String,
    pub role: Role,
    /// When this actor last proved who they are (sign-in or re-authentication).
    pub authenticated_at: Millis,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
}

impl Actor {
    /// The CLI operator. Whoever can reach the database URL from a shell holds the keys anyway, so the CLI
    /// acts as a security admin; the audit log records the OS user and host.
    pub fn cli(now: Millis) -> Actor {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .or_else(|| {
                let out = std::process::Command::new("id").arg("-un").output().ok()?;
                Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| "unknown".into());
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".into());
        Actor {
            id: None,
            kind: ActorKind::Cli,
            label: format!("{user}@{host}"),
            role: Role::SecurityAdmin,
            authenticated_at: now,
            session_id: None,
            ip: None,
        }
    }

    /// A person acting for themself (signing up, enrolling two-factor), authenticated `at`.
    pub fn person(id: Uuid, email: &str, role: Role, at: Millis) -> Actor {
        Actor {
            id: Some(id),
            kind: ActorKind::User,
            label: email.to_owned(),
            role,
            authenticated_at: at,
            session_id: None,
            ip: None,
        }
    }

    pub fn system() -> Actor {
        Actor {
            id: None,
            kind: ActorKind::System,
            label: "warden".into(),
            role: Role::SecurityAdmin,
            authenticated_at: 0,
            session_id: None,
            ip: None,
        }
    }

    pub fn require(&self, p: Permission) -> Result<()> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(self.role.forbidden(p))
        }
    }

    /// Refuses an action on an account of role `target` unless this actor may touch it: staff accounts
    /// (support and security admins) are touched only by a security admin. Unlocking oneself or
    /// resetting one's own two-factor is such an action; ending one's own sessions is not
    /// ([`Actor::require_over_sessions_of`]).
    pub fn require_over(&self, target: Role) -> Result<()> {
        if target.is_privileged() && self.role != Role::SecurityAdmin {
            return Err(Error::Forbidden(format!(
                "the {} role may not act on a staff account ({}): only a security admin may",
                self.role.as_str(),
                target.as_str()
            )));
        }
        Ok(())
    }

    /// Refuses ending the sessions of account `owner`, of role `role`, unless this actor may touch that
    /// account ([`Actor::require_over`]) or it is the actor's own: ending one's own sessions is no action
    /// on another staff account.
    pub fn require_over_sessions_of(&self, owner: Uuid, role: Role) -> Result<()> {
        if self.id == Some(owner) {
            return Ok(());
        }
        self.require_over(role)
    }

    /// Refuses when the actor's last authentication is older than `reauth_after` (privileged actions).
    /// CLI and system actors authenticate per invocation.
    pub fn require_fresh(&self, now: Millis, reauth_after: Millis) -> Result<()> {
        if self.kind == ActorKind::User && now - self.authenticated_at > reauth_after {
            return Err(Error::ReauthRequired);
        }
        Ok(())
    }
}

/// The capability to act as staff (support or security admin). Only a verified staff session
/// ([`crate::model::user::Authenticated::staff`]) or the CLI's operator ([`crate::ops::operator::cli`])
/// yields one: a door cannot build it by hand. Support's operations take it: view users, sessions and
/// the audit log, unlock, reset two-factor, end a user's sessions, review flags.
#[derive(Debug, Clone)]
pub struct Staff {
    actor: Actor,
}

/// The capability to act as a security admin: change the policy, end everyone's sessions, verify and
/// export the audit log, act on a staff account. Only [`Staff::admin_for`] on a security admin's staff
/// capability yields one. It is a [`Staff`] too.
#[derive(Debug, Clone)]
pub struct Admin {
    staff: Staff,
}

impl Staff {
    /// Staff from a verified actor (a validated session, the CLI operator); `forbidden` for a plain user.
    pub(crate) fn verified(actor: Actor) -> Result<Staff> {
        actor.require(Permission::ViewUsers)?;
        Ok(Staff { actor })
    }

    /// Who acts, for the audit log.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The security admin's capability for `p`: `forbidden`, naming the role and what it may not do,
    /// unless this staff member is a security admin.
    pub fn admin_for(&self, p: Permission) -> Result<Admin> {
        self.actor.require(p)?;
        if self.actor.role != Role::SecurityAdmin {
            return Err(self.actor.role.forbidden(p));
        }
        Ok(Admin { staff: self.clone() })
    }

    /// A capability for tests, which make their actors by hand (the `testing` feature: never in a door's
    /// build).
    #[cfg(feature = "testing")]
    pub fn for_tests(actor: Actor) -> Staff {
        Staff { actor }
    }
}

impl Admin {
    /// A capability for tests (the `testing` feature: never in a door's build).
    #[cfg(feature = "testing")]
    pub fn for_tests(actor: Actor) -> Admin {
        Admin { staff: Staff { actor } }
    }
}

impl std::ops::Deref for Admin {
    type Target = Staff;
    fn deref(&self) -> &Staff {
        &self.staff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_may_unlock_but_not_change_policy() {
        assert!(Role::Support.allows(Permission::UnlockUser));
        assert!(Role::Support.allows(Permission::RevokeUserSessions));
        assert!(!Role::Support.allows(Permission::ChangePolicy));
        assert!(!Role::Support.allows(Permission::BulkRevokeSessions));
        assert!(Role::SecurityAdmin.allows(Permission::ChangePolicy));
        assert!(!Role::User.allows(Permission::ViewUsers));
    }

    #[test]
    fn forbidden_names_role_and_action() {
        let mut a = Actor::system();
        a.role = Role::Support;
        let e = a.require(Permission::ChangePolicy).unwrap_err();
        assert_eq!(e.code(), "forbidden");
        assert!(e.to_string().contains("support role may not change the policy"));
    }

    #[test]
    fn only_a_security_admin_acts_on_staff() {
        let mut a = Actor::system();
        a.role = Role::Support;
        assert!(a.require_over(Role::User).is_ok());
        for staff in [Role::Support, Role::SecurityAdmin] {
            let e = a.require_over(staff).unwrap_err();
            assert_eq!(e.code(), "forbidden");
            assert!(e.to_string().contains("only a security admin"), "{e}");
        }
        a.role = Role::SecurityAdmin;
        assert!(a.require_over(Role::SecurityAdmin).is_ok());
    }

    #[test]
    fn stale_user_authentication_needs_reauth() {
        let mut a = Actor::system();
        a.kind = ActorKind::User;
        a.authenticated_at = 1_000;
        assert!(a.require_fresh(1_000 + 60_000, 60_000).is_ok());
        assert_eq!(
            a.require_fresh(1_000 + 60_001, 60_000).unwrap_err().code(),
            "reauth_required"
        );
    }
}
