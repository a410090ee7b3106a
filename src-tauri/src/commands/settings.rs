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

/// How long phones' locations are kept after a session ends, and the most that may be chosen.
#[derive(serde::Serialize)]
pub struct LocationDays {
    days: u32,
    most: u32,
}

#[tauri::command(async)]
pub fn settings_location_days(state: State<'_, AppState>) -> Result<LocationDays, IpcError> {
    Ok(LocationDays {
        days: settings::location_days(&state.database()?.conn())?,
        most: settings::LOCATION_DAYS_MAX,
    })
}

/// `locationDays` from 1 to 90; anything else is refused by the field's label. Locations already
/// past the new limit go at once.
#[tauri::command(async)]
pub fn settings_set_location_days(
    state: State<'_, AppState>,
    location_days: Arg<i64>,
) -> Result<LocationDays, IpcError> {
    let days = settings::keep_locations_for(&state.database()?.conn(), location_days.0)?;
    state.announce(crate::changes::Changed::Sessions);
    Ok(LocationDays {
        days,
        most: settings::LOCATION_DAYS_MAX,
    })
}
