//! The app manifest lists Warden's own commands, so each must be granted by a capability
//! (capabilities/default.json); nothing is allowed by default.

const COMMANDS: &[&str] = &[
    "app_info",
    "open_demo",
    "open_sqlite",
    "open_postgres",
    "open_saved",
    "cancel_connect",
    "forget_connection",
    "disconnect",
    "sign_in",
    "sign_in_totp",
    "reauthenticate",
    "sign_out",
    "me",
    "list_users",
    "get_user",
    "user_timeline",
    "get_overview",
    "unlock_user",
    "reset_totp",
    "revoke_session",
    "revoke_user_sessions",
    "get_policy",
    "preview_policy",
    "save_policy",
    "policy_history",
    "rollback_policy",
    "list_sessions",
    "count_sessions",
    "plan_bulk_revoke",
    "bulk_revoke",
    "cancel_bulk_revoke",
    "list_audit",
    "export_audit",
    "verify_audit",
    "list_flags",
    "resolve_flag",
    "list_library_users",
    "get_library_user",
    "revoke_library_session",
    "revoke_library_user",
    "ban_library_user",
    "unban_library_user",
    "reset_library_two_factor",
    "count_library_sessions",
    "list_library_sessions",
    "end_library_sessions",
    "sign_out_library_everyone",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
