use super::args::Arg;
use tauri::{Emitter, Manager, Runtime, State};

use crate::alarms::hub::{AlarmObserver, AlarmState};
use crate::checkins::views::{self, SessionDetail, SessionView};
use crate::checkins::{self, NewSession};
use crate::error::IpcError;
use crate::state::AppState;

/// Who did it, as recorded in the timeline, when it was done in the app.
const BY_APP: &str = "app";

#[tauri::command(async)]
pub fn checkins_active(state: State<'_, AppState>) -> Result<Vec<SessionView>, IpcError> {
    Ok(views::active(&state.database()?.reader())?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_detail(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    Ok(views::detail(&state.database()?.reader(), session_id.0)?)
}

#[tauri::command(async)]
pub fn checkins_start(
    state: State<'_, AppState>,
    session: Arg<NewSession>,
) -> Result<SessionDetail, IpcError> {
    let database = state.database()?;
    let id = checkins::start(&mut database.conn(), &session, state.clock.now(), BY_APP)?;
    state.sessions_changed();
    Ok(views::detail(&database.conn(), id)?)
}

/// Runs one change to a session, wakes the scheduler and returns the session as it now is.
fn change(
    state: &AppState,
    session_id: i64,
    apply: impl FnOnce(
        &mut rusqlite::Connection,
        chrono::DateTime<chrono::Utc>,
    ) -> Result<(), checkins::CheckinError>,
) -> Result<SessionDetail, IpcError> {
    let database = state.database()?;
    apply(&mut database.conn(), state.clock.now())?;
    state.sessions_changed();
    Ok(views::detail(&database.conn(), session_id)?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_check_in(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now| {
        checkins::check_in(conn, session_id.0, now, BY_APP)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_extend(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
    minutes: Arg<u32>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now| {
        checkins::extend(conn, session_id.0, minutes.0, now, BY_APP)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_end(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now| {
        checkins::end_safely(conn, session_id.0, now, BY_APP)
    })
}

/// "Remind me again in 5 minutes", from a reminder in the window.
#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_snooze(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now| {
        checkins::snooze(conn, session_id.0, now, BY_APP)
    })
}

/// Every open alarm, most urgent first: what the window shows when it (re)loads.
#[tauri::command(async)]
pub fn alarms_open(state: State<'_, AppState>) -> Result<AlarmState, IpcError> {
    Ok(state.alarms()?.state())
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_acknowledge(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now| {
        checkins::acknowledge(conn, session_id.0, now, BY_APP)
    })
}

/// Sends the alarm state to the main window as the `alarms-changed` event, and brings the
/// window forward when a notification is clicked.
pub struct WindowAlarms<R: Runtime>(pub tauri::AppHandle<R>);

impl<R: Runtime> AlarmObserver for WindowAlarms<R> {
    fn changed(&self, state: &AlarmState) {
        if let Err(error) = self.0.emit_to(crate::MAIN_WINDOW, "alarms-changed", state) {
            tracing::warn!("could not update the in-app alarms: {error}");
        }
    }

    fn open_session(&self, session_id: i64) {
        if let Some(window) = self.0.get_webview_window(crate::MAIN_WINDOW) {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
        let _ = self
            .0
            .emit_to(crate::MAIN_WINDOW, "open-session", session_id);
    }
}
