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

/// Whether an OS keyring answers (a probe read; "no entry" means it works).
pub fn keyring_status() -> KeyringStatus {
    let probe = keyring::Entry::new(SERVICE, "probe").and_then(|e| e.get_password());
    match probe {
        Ok(_) | Err(keyring::Error::NoEntry) => KeyringStatus { available: true, note: None },
        Err(e) => KeyringStatus {
            available: false,
            note: Some(format!(
                "No OS keyring is available ({e}). Warden never writes passwords or data keys to disk, so it will ask for them each time."
            )),
        },
    }
}
