use super::args::Arg;
use tauri::{Emitter, Manager, Runtime, State};

use crate::alarms::hub::{AlarmObserver, AlarmState};
use crate::applock;
use crate::changes::{Changed, Listener};
use crate::checkins::views::{self, SessionDetail, SessionView};
use crate::checkins::{self, Actor, NewSession, SessionSink};
use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command(async)]
pub fn checkins_active(state: State<'_, AppState>) -> Result<Vec<SessionView>, IpcError> {
    Ok(views::active(&state.database()?.reader())?)
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_detail(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    Ok(views::detail(
        &state.database()?.reader(),
        session_id.0,
        state.clock.now(),
    )?)
}

#[tauri::command(async)]
pub fn checkins_start(
    state: State<'_, AppState>,
    session: Arg<NewSession>,
) -> Result<SessionDetail, IpcError> {
    let database = state.database()?;
    let id = checkins::start(
        &mut database.conn(),
        &session,
        state.clock.now(),
        &Actor::here(),
        state.sessions_sink.as_ref(),
    )?;
    state.announce(Changed::Sessions);
    Ok(views::detail(&database.conn(), id, state.clock.now())?)
}

/// Runs one change to a session made in the window, tells everything that listens, and
/// returns the session as it now is.
fn change(
    state: &AppState,
    session_id: i64,
    apply: impl FnOnce(
        &mut rusqlite::Connection,
        chrono::DateTime<chrono::Utc>,
        &Actor,
        &dyn SessionSink,
    ) -> Result<(), checkins::CheckinError>,
) -> Result<SessionDetail, IpcError> {
    let database = state.database()?;
    apply(
        &mut database.conn(),
        state.clock.now(),
        &Actor::here(),
        state.sessions_sink.as_ref(),
    )?;
    state.announce(Changed::Sessions);
    Ok(views::detail(
        &database.conn(),
        session_id,
        state.clock.now(),
    )?)
}

/// "I'm OK". While the app is locked and a duress PIN is set, it takes a PIN: the PIN
/// checks in; the duress PIN checks in the same way on screen and tells the team silently.
#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_check_in(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
    pin: Arg<Option<String>>,
) -> Result<SessionDetail, IpcError> {
    let database = state.database()?;
    if state.app_lock.is_locked() && applock::duress_pin_set(&database.reader())? {
        let pin = pin
            .0
            .as_deref()
            .filter(|pin| !pin.is_empty())
            .ok_or(applock::LockError::PinToCheckIn)?;
        let now = state.clock.now();
        if state.app_lock.check_pin(database, pin, now)? == applock::Unlocked::UnderDuress {
            super::applock::tell_the_team_of_duress(&state, database, now);
        }
    }
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::check_in(conn, session_id.0, now, actor, sink)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_extend(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
    minutes: Arg<u32>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::extend(conn, session_id.0, minutes.0, now, actor, sink)
    })
}

#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_end(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::end_safely(conn, session_id.0, now, actor, sink)
    })
}

/// "Remind me again in 5 minutes", from a reminder in the window.
#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_snooze(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::snooze(conn, session_id.0, now, actor, sink)
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
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::acknowledge(conn, session_id.0, now, actor, sink)
    })
}

/// "I'm dealing with it", for a silent (duress) alarm: told to the team's app devices only.
#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_acknowledge_duress(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::acknowledge_duress(conn, session_id.0, now, actor, sink)
    })
}

/// A welfare check: asks the people out on a session to check in now.
#[tauri::command(async, rename_all = "camelCase")]
pub fn checkins_ask(
    state: State<'_, AppState>,
    session_id: Arg<i64>,
) -> Result<SessionDetail, IpcError> {
    change(&state, session_id.0, |conn, now, actor, sink| {
        checkins::ask_check_in(conn, session_id.0, now, actor, sink)
    })
}

/// What the window is told, as its one `changed` event: what changed, and with sessions the
/// alarms as they now are. The window draws once per change.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WindowChange<'a> {
    what: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarms: Option<&'a AlarmState>,
}

fn tell_window<R: Runtime>(app: &tauri::AppHandle<R>, change: &WindowChange) {
    if let Err(error) = app.emit_to(crate::MAIN_WINDOW, "changed", change) {
        tracing::warn!("could not tell the window what changed: {error}");
    }
}

/// Sends the alarms, read again after sessions changed, to the main window, and brings the
/// window forward when a notification is clicked.
pub struct WindowAlarms<R: Runtime>(pub tauri::AppHandle<R>);

impl<R: Runtime> AlarmObserver for WindowAlarms<R> {
    fn changed(&self, state: &AlarmState) {
        tell_window(
            &self.0,
            &WindowChange {
                what: "sessions",
                alarms: Some(state),
            },
        );
    }

    fn open_session(&self, session_id: i64) {
        self.bring_forward();
        let _ = self
            .0
            .emit_to(crate::MAIN_WINDOW, "open-session", session_id);
    }

    fn open_team(&self) {
        self.bring_forward();
        let _ = self.0.emit_to(crate::MAIN_WINDOW, "open-team", ());
    }
}

impl<R: Runtime> WindowAlarms<R> {
    fn bring_forward(&self) {
        if let Some(window) = self.0.get_webview_window(crate::MAIN_WINDOW) {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    }
}

/// Tells the window of the changes that raise no alarm: the do-not-knock list, the team.
/// (Session changes reach it with the alarms, from the alarm hub.)
pub struct WindowChanges<R: Runtime>(pub tauri::AppHandle<R>);

impl<R: Runtime> Listener for WindowChanges<R> {
    fn heard(&self, what: &Changed) {
        let what = match what {
            Changed::DoNotKnock => "doNotKnock",
            Changed::Team | Changed::Unreadable { .. } | Changed::ComparisonAsked { .. } => "team",
            Changed::Sessions
            | Changed::Alerted { .. }
            | Changed::Record
            | Changed::TeamReading { .. } => return,
        };
        tell_window(&self.0, &WindowChange { what, alarms: None });
    }
}
