//! Backups: write one, restore one into an empty record, and when the last one was made.

use std::path::PathBuf;

use tauri::State;

use super::args::Arg;
use crate::backup::{self, BackupError, BackupStatus, BackupSummary, RestoreSummary};
use crate::error::IpcError;
use crate::incidents::attachments::AttachmentStore;
use crate::state::AppState;

fn typed_path(value: &str, field: &'static str, message: &str) -> Result<PathBuf, IpcError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(BackupError::Invalid {
            field,
            message: message.into(),
        }
        .into());
    }
    Ok(PathBuf::from(value))
}

/// Writes a backup of the whole record into `folder`, sealed with the passphrase chosen for it.
#[tauri::command(async, rename_all = "camelCase")]
pub fn backup_write(
    state: State<'_, AppState>,
    folder: Arg<String>,
    passphrase: Arg<String>,
    passphrase_again: Arg<String>,
) -> Result<BackupSummary, IpcError> {
    let folder = typed_path(
        &folder,
        "folder",
        "Save to: type or choose the folder the backup goes in.",
    )?;
    let database = state.database()?;
    let files = AttachmentStore::new(&state.data_dir, database.key());
    Ok(backup::write(
        database,
        &files,
        &folder,
        &passphrase,
        &passphrase_again,
        state.clock.now(),
    )?)
}

/// Restores a backup into this record, which must be empty; alarms and reminders then follow
/// the restored sessions at once.
#[tauri::command(async, rename_all = "camelCase")]
pub fn backup_restore(
    state: State<'_, AppState>,
    path: Arg<String>,
    passphrase: Arg<String>,
) -> Result<RestoreSummary, IpcError> {
    let path = typed_path(
        &path,
        "file",
        "Backup file: type or choose the backup to restore.",
    )?;
    let database = state.database()?;
    let files = AttachmentStore::new(&state.data_dir, database.key());
    let summary = backup::restore(database, &files, &path, &passphrase)?;
    if let Ok(choice) = crate::settings::time_zone_choice(&database.conn()) {
        crate::time::show_times_in(choice.zone());
    }
    state.announce(crate::changes::Changed::Sessions);
    Ok(summary)
}

#[tauri::command(async)]
pub fn backup_status(state: State<'_, AppState>) -> Result<BackupStatus, IpcError> {
    let database = state.database()?;
    let conn = database.reader();
    Ok(backup::status(&conn, state.clock.now())?)
}
