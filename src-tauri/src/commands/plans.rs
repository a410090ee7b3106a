use super::args::Arg;
use serde::Serialize;
use tauri::State;

use crate::error::IpcError;
use crate::plans::risk::RiskKind;
use crate::plans::{self, places, PlanDetail, PlanInput, PlanSummary, RiskAnswer};
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    key: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanChoices {
    places: Vec<Choice>,
    risks: Vec<RiskChoice>,
    default_check_in_minutes: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskChoice {
    key: &'static str,
    label: &'static str,
    auto: bool,
    hint: &'static str,
}

#[tauri::command]
pub fn plans_choices() -> PlanChoices {
    PlanChoices {
        places: places::PLACES
            .iter()
            .map(|p| Choice {
                key: p.key,
                label: p.name,
            })
            .collect(),
        risks: RiskKind::ALL
            .iter()
            .map(|k| RiskChoice {
                key: k.key(),
                label: k.label(),
                auto: k.auto(),
                hint: k.hint(),
            })
            .collect(),
        default_check_in_minutes: plans::DEFAULT_CHECK_IN_MINUTES,
    }
}

fn detail(state: &AppState, id: i64) -> Result<PlanDetail, IpcError> {
    Ok(plans::detail(
        &state.database()?.reader(),
        id,
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn plans_list(state: State<'_, AppState>) -> Result<Vec<PlanSummary>, IpcError> {
    Ok(plans::list(&state.database()?.reader(), state.clock.now())?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn plans_detail(state: State<'_, AppState>, plan_id: Arg<i64>) -> Result<PlanDetail, IpcError> {
    detail(&state, plan_id.0)
}

#[tauri::command(async)]
pub fn plans_create(
    state: State<'_, AppState>,
    plan: Arg<PlanInput>,
) -> Result<PlanDetail, IpcError> {
    let id = plans::create(&state.database()?.conn(), &plan, state.clock.now())?;
    detail(&state, id)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn plans_update(
    state: State<'_, AppState>,
    plan_id: Arg<i64>,
    plan: Arg<PlanInput>,
) -> Result<PlanDetail, IpcError> {
    plans::update(
        &state.database()?.conn(),
        plan_id.0,
        &plan,
        state.clock.now(),
    )?;
    detail(&state, plan_id.0)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn plans_answer_risks(
    state: State<'_, AppState>,
    plan_id: Arg<i64>,
    risks: Arg<Vec<RiskAnswer>>,
) -> Result<PlanDetail, IpcError> {
    plans::answer_risks(
        &state.database()?.conn(),
        plan_id.0,
        &risks,
        state.clock.now(),
    )?;
    detail(&state, plan_id.0)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn plans_copy(state: State<'_, AppState>, plan_id: Arg<i64>) -> Result<PlanDetail, IpcError> {
    let id = plans::copy(&state.database()?.conn(), plan_id.0, state.clock.now())?;
    detail(&state, id)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn plans_delete(state: State<'_, AppState>, plan_id: Arg<i64>) -> Result<(), IpcError> {
    Ok(plans::delete(&mut state.database()?.conn(), plan_id.0)?)
}

/// Starts a session per pair; with a team chosen, each is shared with it as well.
#[tauri::command(async, rename_all = "camelCase")]
pub fn plans_start(
    state: State<'_, AppState>,
    plan_id: Arg<i64>,
    room_id: Arg<Option<String>>,
) -> Result<PlanDetail, IpcError> {
    let sessions = {
        let database = state.database()?;
        let mut conn = database.conn();
        plans::start(
            &mut conn,
            plan_id.0,
            state.clock.now(),
            state.sessions_sink.as_ref(),
        )?
    };
    if let Some(room) = room_id.0.as_deref().filter(|r| !r.is_empty()) {
        let team = state.team()?;
        for session in sessions {
            team.share(session, room, &[])?;
        }
    }
    state.announce(crate::changes::Changed::Sessions);
    detail(&state, plan_id.0)
}
