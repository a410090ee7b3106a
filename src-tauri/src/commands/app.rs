use super::args::Arg;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::emergency::EmergencyInfo;
use crate::error::IpcError;
use crate::state::{AppState, Ask};
use crate::vault;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    version: &'static str,
    data_dir: String,
    /// Why saved data cannot be used right now, if it cannot.
    storage_problem: Option<String>,
    /// The record of an earlier version is being upgraded; `record-ready` follows.
    upgrading: bool,
    /// The record is being opened behind the window (a normal start); `record-ready` follows.
    opening: bool,
    /// The record is locked until its passphrase is typed, or a new one is chosen.
    passphrase: Option<Ask>,
    /// "keyring" or "passphrase": what keeps the record's key.
    key_kept_in: Option<&'static str>,
    /// Why the built-in advice could not be loaded, if it could not.
    content_problem: Option<String>,
}

/// Start-up health, so the UI can say plainly what is not working.
#[tauri::command(async)]
pub fn app_status(state: State<'_, AppState>) -> Result<AppStatus, IpcError> {
    Ok(AppStatus {
        version: env!("CARGO_PKG_VERSION"),
        data_dir: state.data_dir.display().to_string(),
        storage_problem: state.database_problem(),
        upgrading: state.upgrading(),
        opening: state.opening(),
        passphrase: state.passphrase_asked(),
        // Never "keyring" while a passphrase is asked for: the key is not kept anywhere yet.
        key_kept_in: match state.passphrase_asked() {
            Some(Ask::Choose { .. }) => None,
            Some(Ask::Enter) => Some("passphrase"),
            None => vault::kept_in(&state.data_dir).ok().flatten(),
        },
        content_problem: state.content_problems(),
    })
}

/// Opens a record kept under a passphrase, or keeps a new record's key under the passphrase
/// chosen (`passphraseAgain` then confirms it). `record-ready` follows when the record is open.
#[tauri::command(async, rename_all = "camelCase")]
pub fn unlock_record<R: Runtime>(
    app: AppHandle<R>,
    passphrase: Arg<String>,
    passphrase_again: Arg<Option<String>>,
) -> Result<(), IpcError> {
    let state = app.state::<AppState>();
    let data_dir = state.data_dir.clone();
    let (passphrase, again) = (passphrase.0, passphrase_again.0.unwrap_or_default());
    let (key, notifier) = state.try_passphrase(|ask| match ask {
        Ask::Enter => vault::unlock(&data_dir, &passphrase),
        Ask::Choose { .. } => vault::choose_passphrase(&data_dir, &passphrase, &again),
    })?;
    crate::open_record_behind(&app, crate::Behind::Key(key), notifier).map_err(|error| IpcError {
        code: "storage",
        message: format!("Campaign Safe could not open your record: {error}."),
        field: None,
    })
}

/// Keeps the record's key under a passphrase from now on, asked for at every start, and takes
/// it out of the keyring.
#[tauri::command(async, rename_all = "camelCase")]
pub fn keep_key_under_passphrase(
    state: State<'_, AppState>,
    passphrase: Arg<String>,
    passphrase_again: Arg<String>,
) -> Result<(), IpcError> {
    let database = state.database()?;
    let keyring = state
        .keyring
        .get()
        .cloned()
        .unwrap_or_else(vault::system_keyring);
    vault::keep_under_passphrase(
        &state.data_dir,
        keyring.as_ref(),
        database.key(),
        &passphrase,
        &passphrase_again,
    )?;
    Ok(())
}

/// What the Emergency screen says beyond its built-in "Call 999" panel.
#[tauri::command(async)]
pub fn emergency_info(state: State<'_, AppState>) -> Result<EmergencyInfo, IpcError> {
    Ok(state.emergency()?.clone())
}

/// The window's first screen is drawn: what start-up alone needed is handed back
/// (footprint.rs), on a thread of its own so the window's next answer does not wait for it.
#[tauri::command]
pub fn app_first_screen_drawn() {
    tauri::async_runtime::spawn_blocking(crate::footprint::hand_back_start_up);
}

/// The start-up benchmark's reading of the page's own timings (benches/startup.rs): printed
/// only when the benchmark asked for it, and only for a moment named in plain letters.
#[tauri::command]
pub fn startup_probe(moment: Arg<String>, ms: Arg<f64>) {
    let (moment, ms) = (moment.0, ms.0);
    let named = !moment.is_empty()
        && moment.len() <= 40
        && moment.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    if named && ms.is_finite() {
        crate::startup::probe(&format!("{moment} {ms:.1}"));
    }
}
