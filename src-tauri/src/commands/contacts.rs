use super::args::Arg;
use tauri::State;

use crate::contacts::{self, ContactCard};
use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command(async)]
pub fn contacts_list(state: State<'_, AppState>) -> Result<Vec<ContactCard>, IpcError> {
    Ok(contacts::list(&state.database()?.conn())?)
}

#[tauri::command(async)]
pub fn contacts_save(
    state: State<'_, AppState>,
    role: Arg<String>,
    name: Arg<String>,
    phone: Arg<String>,
    notes: Arg<String>,
) -> Result<Vec<ContactCard>, IpcError> {
    let database = state.database()?;
    Ok(contacts::save(
        &database.conn(),
        &role,
        &name,
        &phone,
        &notes,
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn contacts_clear(
    state: State<'_, AppState>,
    role: Arg<String>,
) -> Result<Vec<ContactCard>, IpcError> {
    Ok(contacts::clear(&state.database()?.conn(), &role)?)
}
