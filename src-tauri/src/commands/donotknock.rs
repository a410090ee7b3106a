use super::args::Arg;
use chrono::NaiveDate;
use tauri::State;

use crate::changes::Changed;
use crate::donotknock::csv_io::{self, ImportPreview, ImportResult};
use crate::donotknock::{self, Area, Entry, EntryInput, Register};
use crate::error::IpcError;
use crate::state::AppState;

fn register(state: &AppState) -> Result<Register, IpcError> {
    Ok(donotknock::register(
        &state.database()?.conn(),
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn dnk_register(state: State<'_, AppState>) -> Result<Register, IpcError> {
    register(&state)
}

#[tauri::command(async)]
pub fn dnk_add(state: State<'_, AppState>, entry: Arg<EntryInput>) -> Result<Register, IpcError> {
    donotknock::add(
        &state.database()?.conn(),
        &entry,
        state.clock.now(),
        state.doors_sink.as_ref(),
    )?;
    state.announce(Changed::DoNotKnock);
    register(&state)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn dnk_keep(
    state: State<'_, AppState>,
    entry_id: Arg<i64>,
    review_on: Arg<NaiveDate>,
) -> Result<Register, IpcError> {
    donotknock::keep_until(
        &state.database()?.conn(),
        entry_id.0,
        review_on.0,
        state.clock.now(),
    )?;
    state.announce(Changed::DoNotKnock);
    register(&state)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn dnk_remove(state: State<'_, AppState>, entry_id: Arg<i64>) -> Result<Register, IpcError> {
    donotknock::remove(
        &state.database()?.conn(),
        entry_id.0,
        state.clock.now(),
        state.doors_sink.as_ref(),
    )?;
    state.announce(Changed::DoNotKnock);
    register(&state)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn dnk_preview(
    state: State<'_, AppState>,
    path: Arg<String>,
    added_by: Arg<String>,
) -> Result<ImportPreview, IpcError> {
    let path = required_path(&path, "path", "File")?;
    Ok(csv_io::preview(
        &state.database()?.conn(),
        &path,
        &added_by,
        state.clock.now(),
    )?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn dnk_import(
    state: State<'_, AppState>,
    path: Arg<String>,
    added_by: Arg<String>,
) -> Result<ImportResult, IpcError> {
    let path = required_path(&path, "path", "File")?;
    let imported = csv_io::import(
        &mut state.database()?.conn(),
        &path,
        &added_by,
        state.clock.now(),
        state.doors_sink.as_ref(),
    )?;
    state.announce(Changed::DoNotKnock);
    Ok(imported)
}

#[tauri::command(async)]
pub fn dnk_export(state: State<'_, AppState>, folder: Arg<String>) -> Result<String, IpcError> {
    let folder = required_path(&folder, "folder", "Folder")?;
    let path = csv_io::export(&state.database()?.reader(), &folder, state.clock.now())?;
    Ok(path.display().to_string())
}

/// The entries on the streets and postcodes a session's "Where" names.
#[tauri::command(async)]
pub fn dnk_for_place(
    state: State<'_, AppState>,
    place: Arg<String>,
) -> Result<Vec<Entry>, IpcError> {
    let area = Area::from_text(&place);
    Ok(donotknock::in_area(
        &state.database()?.reader(),
        &area,
        state.clock.now(),
    )?)
}

fn required_path(text: &str, field: &str, label: &str) -> Result<std::path::PathBuf, IpcError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(IpcError::new(
            "validation",
            format!("{label}: choose one, or type where it is."),
        )
        .with_field(field));
    }
    Ok(std::path::PathBuf::from(text))
}
