use super::args::Arg;
use tauri::State;

use crate::aftercare::review::{self, ReviewInput, ReviewStatus};
use crate::aftercare::{self, DebriefInput, DebriefResult, FollowUp, Support};
use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command(async, rename_all = "camelCase")]
pub fn aftercare_debrief(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
    answers: Arg<DebriefInput>,
) -> Result<DebriefResult, IpcError> {
    Ok(aftercare::debrief(
        &mut state.database()?.conn(),
        session_id.0,
        &answers,
        state.clock.now(),
    )?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn aftercare_debriefed(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<bool, IpcError> {
    Ok(aftercare::debriefed(
        &state.database()?.reader(),
        session_id.0,
    )?)
}

#[tauri::command(async)]
pub fn aftercare_follow_ups(state: State<'_, AppState>) -> Result<Vec<FollowUp>, IpcError> {
    Ok(aftercare::open_follow_ups(
        &state.database()?.reader(),
        state.clock.now(),
    )?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn aftercare_complete(
    state: State<'_, AppState>,
    follow_up_id: Arg<i64>,
) -> Result<Vec<FollowUp>, IpcError> {
    let database = state.database()?;
    aftercare::complete(&database.conn(), follow_up_id.0, state.clock.now())?;
    Ok(aftercare::open_follow_ups(
        &database.conn(),
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn aftercare_support(state: State<'_, AppState>) -> Result<Support, IpcError> {
    Ok(aftercare::support(&state.database()?.reader())?)
}

#[tauri::command(async)]
pub fn review_status(state: State<'_, AppState>) -> Result<ReviewStatus, IpcError> {
    Ok(review::status(
        &state.database()?.reader(),
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn review_record(
    state: State<'_, AppState>,
    review: Arg<ReviewInput>,
) -> Result<ReviewStatus, IpcError> {
    Ok(review::record(
        &state.database()?.conn(),
        &review,
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn review_set_weeks(
    state: State<'_, AppState>,
    weeks: Arg<u32>,
) -> Result<ReviewStatus, IpcError> {
    let database = state.database()?;
    review::set_weeks(&database.conn(), weeks.0)?;
    Ok(review::status(&database.conn(), state.clock.now())?)
}
