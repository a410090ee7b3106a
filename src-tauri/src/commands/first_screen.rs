//! The first screen's answers in one: after every start the window would otherwise wait for
//! three rounds of questions in turn (the record's status; the lock and the time zone; then
//! Today's own), each a round trip while the page is still busy with its first paint.

use serde::Serialize;
use tauri::State;

use super::app::{app_status, AppStatus};
use super::{advice, aftercare, applock, backup, checkins, settings};
use crate::advice::SectionSummary;
use crate::aftercare::review::ReviewStatus;
use crate::aftercare::FollowUp;
use crate::applock::LockStatus;
use crate::backup::BackupStatus;
use crate::checkins::views::SessionView;
use crate::error::IpcError;
use crate::settings::TimeZoneView;
use crate::state::AppState;

/// One answer, or why it could not be given: each part fails on its own, as it would asked
/// for alone. Serialised as `{ "value": … }` or `{ "error": { code, message, field? } }`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Part<T> {
    Value(T),
    Error(IpcError),
}

impl<T> From<Result<T, IpcError>> for Part<T> {
    fn from(result: Result<T, IpcError>) -> Self {
        match result {
            Ok(value) => Part::Value(value),
            Err(error) => Part::Error(error),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstScreen {
    status: AppStatus,
    time_zone: Part<TimeZoneView>,
    lock: Part<LockStatus>,
    /// Today's own answers: none while the record is still opening (the window then waits
    /// for `record-ready` and asks as any screen does), and none while the app is locked.
    today: Option<TodayAnswers>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TodayAnswers {
    advice: Part<Vec<SectionSummary>>,
    backup: Part<BackupStatus>,
    follow_ups: Part<Vec<FollowUp>>,
    review: Part<ReviewStatus>,
    active: Part<Vec<SessionView>>,
}

/// The status, the time zone, the lock, and (open and unlocked) what Today shows, each as
/// its own command would answer it. Allowed while locked: locked, it holds nothing of the
/// record that those commands would not give then.
#[tauri::command(async)]
pub fn first_screen(state: State<'_, AppState>) -> Result<FirstScreen, IpcError> {
    let status = app_status(state.clone())?;
    let lock: Part<LockStatus> = applock::lock_status(state.clone()).into();
    // Asked again rather than read from `lock`: that answer is an error while the record
    // opens, and Today is only given when the lock is known to be off.
    let unlocked =
        matches!(&lock, Part::Value(lock) if !lock.locked) && !state.app_lock.is_locked();
    let today = (unlocked && state.database().is_ok()).then(|| TodayAnswers {
        advice: advice::advice_list(state.clone()).into(),
        backup: backup::backup_status(state.clone()).into(),
        follow_ups: aftercare::aftercare_follow_ups(state.clone()).into(),
        review: aftercare::review_status(state.clone()).into(),
        active: checkins::checkins_active(state.clone()).into(),
    });
    Ok(FirstScreen {
        status,
        time_zone: settings::settings_time_zone(state.clone()).into(),
        lock,
        today,
    })
}
