//! The app lock: its state, the PIN, the idle time, locking and unlocking.

use tauri::State;

use super::args::Arg;
use crate::applock::{self, LockStatus};
use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command(async)]
pub fn lock_status(state: State<'_, AppState>) -> Result<LockStatus, IpcError> {
    let database = state.database()?;
    Ok(state.app_lock.status(&database.reader())?)
}

#[tauri::command(async)]
pub fn lock_now(state: State<'_, AppState>) -> Result<LockStatus, IpcError> {
    let database = state.database()?;
    state.app_lock.lock(&database.conn())?;
    tracing::info!("the app was locked");
    Ok(state.app_lock.status(&database.reader())?)
}

/// Slow by design (Argon2id), and slower after wrong tries.
#[tauri::command(async)]
pub fn lock_unlock(state: State<'_, AppState>, pin: Arg<String>) -> Result<LockStatus, IpcError> {
    let database = state.database()?;
    let now = state.clock.now();
    if state.app_lock.unlock(database, &pin, now)? == applock::Unlocked::UnderDuress {
        tell_the_team_of_duress(&state, database, now);
    }
    Ok(state.app_lock.status(&database.reader())?)
}

/// The duress PIN was typed: the screen goes on as with the PIN; only the team's other
/// devices hear of it. Nothing of it in the log either, but a failure (worded plainly).
pub(super) fn tell_the_team_of_duress(
    state: &AppState,
    database: &crate::storage::Database,
    now: chrono::DateTime<chrono::Utc>,
) {
    if let Err(error) = crate::relay::duress::signal_pin(&mut database.conn(), now) {
        tracing::error!("a team post could not be queued: {error}");
    }
    state.announce(crate::changes::Changed::Sessions);
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn lock_set_duress_pin(
    state: State<'_, AppState>,
    duress_pin: Arg<String>,
    duress_pin_again: Arg<String>,
) -> Result<LockStatus, IpcError> {
    let database = state.database()?;
    applock::set_duress_pin(&database.conn(), &duress_pin, &duress_pin_again)?;
    Ok(state.app_lock.status(&database.reader())?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn lock_set_pin(
    state: State<'_, AppState>,
    pin: Arg<String>,
    pin_again: Arg<String>,
) -> Result<LockStatus, IpcError> {
    let database = state.database()?;
    applock::set_pin(&database.conn(), &pin, &pin_again)?;
    Ok(state.app_lock.status(&database.reader())?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn lock_set_idle(
    state: State<'_, AppState>,
    idle_minutes: Arg<u32>,
) -> Result<LockStatus, IpcError> {
    let database = state.database()?;
    applock::set_idle_minutes(&database.conn(), idle_minutes.0)?;
    Ok(state.app_lock.status(&database.reader())?)
}
