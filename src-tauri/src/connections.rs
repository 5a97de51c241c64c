//! Saved connections: their non-secret part in the app's store file (tauri-plugin-store), their
//! password and data key in the OS keyring when there is one — never in the store file.

use serde::{Deserialize, Serialize};
use tauri::AppHandle;
use tauri_plugin_store::StoreExt;
use warden_core::{Error, Result, Secret};

use crate::types::{KeyringStatus, SavedConnection};

const STORE: &str = "connections.json";
const SERVICE: &str = "dev.warden.console";

/// A saved connection as stored (no secret in it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub id: String,
    pub label: String,
    pub kind: String,
    /// The URL without a password.
    pub url: String,
}

fn store_err(e: impl std::fmt::Display) -> Error {
    Error::Unexpected(format!("saved connections: {e}"))
}

pub fn list(app: &AppHandle) -> Result<Vec<Stored>> {
    let store = app.store(STORE).map_err(store_err)?;
    Ok(store
        .get("connections")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

fn write(app: &AppHandle, all: &[Stored]) -> Result<()> {
    let store = app.store(STORE).map_err(store_err)?;
    store.set("connections", serde_json::to_value(all).map_err(store_err)?);
    store.save().map_err(store_err)
}

/// Saves (or updates, by URL) a connection; keeps its password in the keyring when one is available.
pub fn save(app: &AppHandle, kind: &str, url: &str, label: &str, password: Option<&Secret>) -> Result<Stored> {
    let mut all = list(app)?;
    let entry = match all.iter().find(|c| c.url == url) {
        Some(c) => c.clone(),
        None => {
            let c = Stored {
                id: uuid::Uuid::now_v7().to_string(),
                label: label.to_owned(),
                kind: kind.to_owned(),
                url: url.to_owned(),
            };
            all.push(c.clone());
            write(app, &all)?;
            c
        }
    };
    if let Some(pw) = password.filter(|p| !p.expose().is_empty()) {
        // Without a keyring the password is simply not kept; the UI says so and asks each time.
        let _ = set_secret(&entry.id, "password", pw);
    }
    Ok(entry)
}

pub fn forget(app: &AppHandle, id: &str) -> Result<()> {
    let all: Vec<Stored> = list(app)?.into_iter().filter(|c| c.id != id).collect();
    write(app, &all)?;
    for what in ["password", "data-key"] {
        if let Ok(e) = keyring::Entry::new(SERVICE, &format!("{id}:{what}")) {
            let _ = e.delete_credential();
        }
    }
    Ok(())
}

pub fn views(app: &AppHandle) -> Result<Vec<SavedConnection>> {
    Ok(list(app)?
        .into_iter()
        .map(|c| SavedConnection {
            has_secret: get_secret(&c.id, "password").is_some(),
            display: c.url.clone(),
            id: c.id,
            label: c.label,
            kind: c.kind,
        })
        .collect())
}

pub fn set_secret(id: &str, what: &str, value: &Secret) -> std::result::Result<(), keyring::Error> {
    keyring::Entry::new(SERVICE, &format!("{id}:{what}"))?.set_password(value.expose())
}

pub fn get_secret(id: &str, what: &str) -> Option<Secret> {
    keyring::Entry::new(SERVICE, &format!("{id}:{what}"))
        .ok()?
        .get_password()
        .ok()
        .map(Secret::new)
}

/// What the connect screen says when there is no keyring: once, in plain words, whatever the platform's
/// error said (its text goes to the log, not to the screen).
pub const NO_KEYRING: &str = "There is no keyring on this machine, so Warden cannot remember database \
passwords or data keys: it asks for them each time you open a saved connection. It never writes them \
to disk.";

/// Whether an OS keyring answers (a probe read; "no entry" means it works).
pub fn keyring_status() -> KeyringStatus {
    let probe = keyring::Entry::new(SERVICE, "probe").and_then(|e| e.get_password());
    keyring_status_of(probe.map(|_| ()))
}

fn keyring_status_of(probe: std::result::Result<(), keyring::Error>) -> KeyringStatus {
    match probe {
        Ok(()) | Err(keyring::Error::NoEntry) => KeyringStatus {
            available: true,
            note: None,
        },
        Err(e) => {
            eprintln!("warden-console: no keyring: {e}");
            KeyringStatus {
                available: false,
                note: Some(NO_KEYRING.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_keyring_is_said_in_plain_words_not_in_the_platform_error() {
        let dbus = keyring::Error::PlatformFailure(
            "DBus error: The name org.freedesktop.secrets was not provided by any .service files".into(),
        );
        let status = keyring_status_of(Err(dbus));
        assert!(!status.available);
        let note = status.note.expect("a note when there is no keyring");
        assert!(note.contains("no keyring on this machine"), "{note}");
        for raw in ["DBus", "freedesktop", ".:"] {
            assert!(!note.contains(raw), "no platform text (`{raw}`) in {note}");
        }
    }

    #[test]
    fn a_keyring_without_the_probe_entry_is_a_working_keyring() {
        let status = keyring_status_of(Err(keyring::Error::NoEntry));
        assert!(status.available && status.note.is_none());
    }
}
