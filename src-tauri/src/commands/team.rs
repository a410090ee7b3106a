//! The Team screen's commands: a thin layer over `relay::matrix::TeamService`.

use super::args::Arg;
use serde::Deserialize;
use tauri::State;

use crate::checkins::views::{self, SessionDetail};
use crate::error::IpcError;
use crate::relay::matrix::{Member, TeamStatus, TeamView};
use crate::state::AppState;

#[tauri::command]
pub async fn team_status(state: State<'_, AppState>) -> Result<TeamStatus, IpcError> {
    Ok(state.team()?.status().await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignIn {
    homeserver: String,
    user: String,
    password: String,
    /// Given when registering a new account on a server that asks for a token.
    #[serde(default)]
    registration_token: Option<String>,
    /// What the team sees for this device; the computer's name when left empty.
    #[serde(default)]
    device_name: Option<String>,
}

#[tauri::command]
pub async fn team_sign_in(
    state: State<'_, AppState>,
    account: Arg<SignIn>,
) -> Result<TeamStatus, IpcError> {
    let team = state.team()?.clone();
    Ok(team
        .sign_in(
            &account.homeserver,
            &account.user,
            &account.password,
            account.registration_token.as_deref(),
            account.device_name.as_deref(),
        )
        .await?)
}

/// Confirms this device with the account's recovery key.
#[tauri::command]
pub async fn team_confirm_device(
    state: State<'_, AppState>,
    recovery_key: Arg<String>,
) -> Result<TeamStatus, IpcError> {
    let team = state.team()?.clone();
    Ok(team.confirm_with_recovery_key(&recovery_key).await?)
}

/// Keeps the account's recovery key in the record (the user ticked the box).
#[tauri::command]
pub async fn team_keep_recovery_key(
    state: State<'_, AppState>,
    recovery_key: Arg<String>,
) -> Result<(), IpcError> {
    Ok(state.team()?.keep_recovery_key(&recovery_key)?)
}

/// Confirms this device with the recovery key kept in the record.
#[tauri::command]
pub async fn team_confirm_with_kept_key(
    state: State<'_, AppState>,
) -> Result<TeamStatus, IpcError> {
    let team = state.team()?.clone();
    Ok(team.confirm_with_kept_key().await?)
}

/// Accepts a teammate's changed identity once the user has checked it with them.
#[tauri::command]
pub async fn team_acknowledge_identity(
    state: State<'_, AppState>,
    user_id: Arg<String>,
) -> Result<TeamStatus, IpcError> {
    Ok(state.team()?.acknowledge_identity(&user_id).await?)
}

/// Starts comparing numbers: with another of the user's own sessions (no teammate), to
/// confirm this device, or with one session of a teammate, to verify them.
#[tauri::command]
pub async fn team_compare_start(
    state: State<'_, AppState>,
    user_id: Arg<Option<String>>,
    device_id: Arg<Option<String>>,
) -> Result<TeamStatus, IpcError> {
    Ok(state
        .team()?
        .start_comparison(user_id.as_deref(), device_id.as_deref())
        .await?)
}

#[tauri::command]
pub async fn team_compare_accept(state: State<'_, AppState>) -> Result<TeamStatus, IpcError> {
    Ok(state.team()?.accept_comparison().await?)
}

/// The user's answer: the numbers on both screens match, or they do not.
#[tauri::command]
pub async fn team_compare_answer(
    state: State<'_, AppState>,
    matched: Arg<bool>,
) -> Result<TeamStatus, IpcError> {
    Ok(state.team()?.answer_comparison(*matched).await?)
}

#[tauri::command]
pub async fn team_compare_stop(state: State<'_, AppState>) -> Result<TeamStatus, IpcError> {
    Ok(state.team()?.stop_comparison().await?)
}

#[tauri::command]
pub async fn team_create(
    state: State<'_, AppState>,
    name: Arg<String>,
) -> Result<TeamView, IpcError> {
    Ok(state.team()?.create_team(&name).await?)
}

#[tauri::command]
pub async fn team_join(
    state: State<'_, AppState>,
    invite: Arg<String>,
    name: Arg<String>,
) -> Result<TeamView, IpcError> {
    Ok(state.team()?.join_team(&invite, &name).await?)
}

#[tauri::command(rename_all = "camelCase")]
pub async fn team_invite(
    state: State<'_, AppState>,
    room_id: Arg<String>,
    user_id: Arg<String>,
) -> Result<(), IpcError> {
    Ok(state.team()?.invite(&room_id, &user_id).await?)
}

/// Sets the team's duress word (empty: none); a word the app does not allow is refused by
/// the field "Duress word".
#[tauri::command(async, rename_all = "camelCase")]
pub fn team_set_duress_word(
    state: State<'_, AppState>,
    room_id: Arg<String>,
    duress_word: Arg<String>,
) -> Result<(), IpcError> {
    Ok(state.team()?.set_duress_word(&room_id, &duress_word)?)
}

#[tauri::command(rename_all = "camelCase")]
pub async fn team_members(
    state: State<'_, AppState>,
    room_id: Arg<String>,
) -> Result<Vec<Member>, IpcError> {
    Ok(state.team()?.members(&room_id).await?)
}

#[tauri::command(rename_all = "camelCase")]
pub async fn team_leave(state: State<'_, AppState>, room_id: Arg<String>) -> Result<(), IpcError> {
    Ok(state.team()?.leave_team(&room_id).await?)
}

/// "Try again now": the server is tried at once instead of after the current wait.
#[tauri::command]
pub async fn team_reconnect(state: State<'_, AppState>) -> Result<(), IpcError> {
    state.team()?.reconnect();
    Ok(())
}

#[tauri::command]
pub async fn team_sign_out(state: State<'_, AppState>) -> Result<(), IpcError> {
    Ok(state.team()?.sign_out().await?)
}

/// Shares a running session of this device with a team.
#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_share(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
    room_id: Arg<String>,
    chat_members: Arg<Vec<String>>,
) -> Result<SessionDetail, IpcError> {
    state.team()?.share(session_id.0, &room_id, &chat_members)?;
    state.announce(crate::changes::Changed::Sessions);
    Ok(views::detail(
        &state.database()?.conn(),
        session_id.0,
        state.clock.now(),
    )?)
}
