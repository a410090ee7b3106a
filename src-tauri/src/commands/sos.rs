use super::args::Arg;
use serde::Serialize;
use tauri::State;

use super::ticks_or_none;
use crate::error::IpcError;
use crate::guides::{self, Device, GuideView, Resolution};
use crate::state::AppState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuideSummary {
    id: String,
    name: String,
    applies_to: String,
}

#[tauri::command(async)]
pub fn sos_guides(state: State<'_, AppState>) -> Result<Vec<GuideSummary>, IpcError> {
    Ok(state
        .guides()?
        .guides()
        .iter()
        .map(|g| GuideSummary {
            id: g.id.clone(),
            name: g.name.clone(),
            applies_to: g.applies_to.clone(),
        })
        .collect())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    #[serde(flatten)]
    resolution: Resolution,
    guide_name: String,
}

#[tauri::command(async)]
pub fn sos_resolve(state: State<'_, AppState>, model: Arg<String>) -> Result<Found, IpcError> {
    let library = state.guides()?;
    let resolution = library.resolve(&model)?;
    // An ambiguous name has no guide yet: the window asks which model it is.
    let guide_name = match resolution.match_kind {
        guides::MatchKind::Ambiguous => String::new(),
        _ => library.guide(&resolution.guide_id)?.name.clone(),
    };
    Ok(Found {
        resolution,
        guide_name,
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn sos_guide(state: State<'_, AppState>, guide_id: Arg<String>) -> Result<GuideView, IpcError> {
    let guide = state.guides()?.guide(&guide_id)?;
    Ok(guides::view(guide, &ticks_or_none(&state)?))
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn sos_set_tick(
    state: State<'_, AppState>,
    guide_id: Arg<String>,
    item_id: Arg<String>,
    done: Arg<bool>,
) -> Result<GuideView, IpcError> {
    let database = state.database()?;
    Ok(guides::set_tick(
        state.guides()?,
        &database.conn(),
        &guide_id,
        &item_id,
        done.0,
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn sos_devices(state: State<'_, AppState>) -> Result<Vec<Device>, IpcError> {
    Ok(guides::devices(state.guides()?, &state.database()?.conn())?)
}

#[tauri::command(async)]
pub fn sos_add_device(
    state: State<'_, AppState>,
    model: Arg<String>,
) -> Result<Vec<Device>, IpcError> {
    Ok(guides::add_device(
        state.guides()?,
        &state.database()?.conn(),
        &model,
        state.clock.now(),
    )?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn sos_remove_device(
    state: State<'_, AppState>,
    device_id: Arg<i64>,
) -> Result<Vec<Device>, IpcError> {
    Ok(guides::remove_device(
        state.guides()?,
        &state.database()?.conn(),
        device_id.0,
    )?)
}
