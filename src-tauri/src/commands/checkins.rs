use serde::Serialize;
use tauri::{Emitter, Manager, Runtime, State};

use crate::checkins::runner::AlertSink;
use crate::checkins::scheduler::{notice, Alert, AlertKind};
use crate::checkins::views::{self, SessionDetail, SessionView};
use crate::checkins::{self, NewSession};
use crate::error::IpcError;
use crate::state::AppState;

/// Who did it, as recorded in the timeline, when it was done in the app.
const BY_APP: &str = "app";

#[tauri::command(async)]
pub fn checkins_active(state: State<'_, AppState>) -> Result<Vec<SessionView>, IpcError> {
    Ok(views::active(&state.database()?.conn())?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_detail(
    state: State<'_, AppState>,
    session_id: i64,
) -> Result<SessionDetail, IpcError> {
    Ok(views::detail(&state.database()?.conn(), session_id)?)
}

#[tauri::command(async)]
pub fn checkins_start(
    state: State<'_, AppState>,
    session: NewSession,
) -> Result<SessionDetail, IpcError> {
    let database = state.database()?;
    let id = checkins::start(&mut database.conn(), &session, state.clock.now(), BY_APP)?;
    state.scheduler.poke();
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
    state.scheduler.poke();
    Ok(views::detail(&database.conn(), session_id)?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_check_in(
    state: State<'_, AppState>,
    session_id: i64,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id, |conn, now| {
        checkins::check_in(conn, session_id, now, BY_APP)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_extend(
    state: State<'_, AppState>,
    session_id: i64,
    minutes: u32,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id, |conn, now| {
        checkins::extend(conn, session_id, minutes, now, BY_APP)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_end(
    state: State<'_, AppState>,
    session_id: i64,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id, |conn, now| {
        checkins::end_safely(conn, session_id, now, BY_APP)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_acknowledge(
    state: State<'_, AppState>,
    session_id: i64,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id, |conn, now| {
        checkins::acknowledge(conn, session_id, now, BY_APP)
    })
}

/// What the window receives as the `checkin-alert` event: the in-app alarm.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertPayload {
    session_id: i64,
    missed: bool,
    summary: String,
    body: String,
    notification_failed: bool,
}

/// Sends scheduler alerts to the main window, and brings it forward when a notice is clicked.
pub struct WindowAlerts<R: Runtime>(pub tauri::AppHandle<R>);

impl<R: Runtime> AlertSink for WindowAlerts<R> {
    fn alert(&self, alert: &Alert, notification_failed: bool) {
        let shown = notice(alert);
        let payload = AlertPayload {
            session_id: alert.session_id,
            missed: matches!(alert.kind, AlertKind::Missed { .. }),
            summary: shown.summary,
            body: shown.body,
            notification_failed,
        };
        if let Err(error) = self.0.emit_to(crate::MAIN_WINDOW, "checkin-alert", payload) {
            tracing::warn!("could not show the in-app alarm: {error}");
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
