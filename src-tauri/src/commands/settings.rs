use super::args::Arg;
use tauri::State;

use crate::error::IpcError;
use crate::settings::{self, TimeZoneChoice, TimeZoneView};
use crate::state::AppState;

#[tauri::command(async)]
pub fn settings_time_zone(state: State<'_, AppState>) -> Result<TimeZoneView, IpcError> {
    let choice = match state.database() {
        Ok(database) => settings::time_zone_choice(&database.conn())?,
        // Without the database the screens still work, in UK time.
        Err(_) => TimeZoneChoice::Uk,
    };
    Ok(settings::time_zone_view(choice))
}

/// `choice` is "uk" or "device"; anything else is refused by the field's label.
#[tauri::command(async)]
pub fn settings_set_time_zone(
    state: State<'_, AppState>,
    choice: Arg<String>,
) -> Result<TimeZoneView, IpcError> {
    let choice = TimeZoneChoice::parse(&choice)?;
    settings::choose_time_zone(&state.database()?.conn(), choice)?;
    // Alarm texts and session times are worded by the backend: show them in the new zone.
    state.announce(crate::changes::Changed::Sessions);
    Ok(settings::time_zone_view(choice))
}
