use super::args::Arg;
use tauri::State;

use super::ticks_or_none;
use crate::advice::{self, SectionSummary, SectionView};
use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command(async)]
pub fn advice_list(state: State<'_, AppState>) -> Result<Vec<SectionSummary>, IpcError> {
    let library = state.advice()?;
    Ok(advice::summaries(library, &ticks_or_none(&state)?))
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn advice_section(
    state: State<'_, AppState>,
    section_id: Arg<String>,
) -> Result<SectionView, IpcError> {
    let section = state.advice()?.section(&section_id)?;
    Ok(advice::view(section, &ticks_or_none(&state)?))
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn advice_set_tick(
    state: State<'_, AppState>,
    section_id: Arg<String>,
    item_id: Arg<String>,
    done: Arg<bool>,
) -> Result<SectionView, IpcError> {
    let library = state.advice()?;
    let database = state.database()?;
    let now = state.clock.now();
    Ok(advice::set_tick(
        library,
        &database.conn(),
        &section_id,
        &item_id,
        done.0,
        now,
    )?)
}
