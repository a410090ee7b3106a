//! The IPC layer: thin adapters from Tauri commands to the domain modules.
//! Every command returns `Result<_, IpcError>` so the UI gets one error shape.
//! Each command must also be listed in `src-tauri/build.rs` and granted in
//! `src-tauri/capabilities/`.

mod advice;
mod aftercare;
mod app;
mod applock;
mod args;
mod backup;
mod checkins;
mod contacts;
mod donotknock;
mod incidents;
mod pickers;
mod plans;
mod settings;
mod sos;
mod team;

pub use self::checkins::{WindowAlarms, WindowChanges};
use tauri::ipc::Invoke;
use tauri::{Manager, Runtime};

use crate::checklist::Ticks;
use crate::error::IpcError;
use crate::state::AppState;
use crate::storage::StorageError;

/// The user's ticks, or none if the database could not be opened: the content itself still
/// reads fine, and the start-up banner says why progress is missing.
fn ticks_or_none(state: &AppState) -> Result<Ticks, IpcError> {
    match state.database() {
        Ok(database) => Ok(Ticks::load(&database.conn()).map_err(StorageError::from)?),
        Err(_) => Ok(Ticks::default()),
    }
}

/// What the window may still do while the app is locked: the Emergency screen and the built-in
/// guidance, "I'm OK" and the alarms of sessions that are out, and unlocking.
const ALLOWED_WHEN_LOCKED: &[&str] = &[
    "app_status",
    "startup_probe",
    "app_first_screen_drawn",
    "unlock_record",
    "emergency_info",
    "settings_time_zone",
    "advice_list",
    "advice_section",
    "sos_guides",
    "sos_resolve",
    "sos_guide",
    "checkins_active",
    "checkins_check_in",
    "checkins_acknowledge",
    "checkins_acknowledge_duress",
    "checkins_snooze",
    "alarms_open",
    "lock_status",
    "lock_unlock",
];

/// Every command, behind the app lock: while it is locked, anything else is refused in the
/// one error shape before it runs, so no screen can show the record by mistake.
pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    let commands = every_command();
    move |invoke: Invoke<R>| {
        let locked = invoke
            .message
            .webview_ref()
            .try_state::<AppState>()
            .is_some_and(|state| state.app_lock.is_locked());
        if locked && !ALLOWED_WHEN_LOCKED.contains(&invoke.message.command()) {
            invoke
                .resolver
                .reject(IpcError::from(crate::applock::LockError::Locked));
            return true;
        }
        commands(invoke)
    }
}

fn every_command<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_status,
        app::unlock_record,
        app::keep_key_under_passphrase,
        applock::lock_status,
        applock::lock_now,
        applock::lock_unlock,
        applock::lock_set_pin,
        applock::lock_set_duress_pin,
        applock::lock_set_idle,
        backup::backup_status,
        backup::backup_write,
        backup::backup_restore,
        app::startup_probe,
        app::app_first_screen_drawn,
        app::emergency_info,
        settings::settings_time_zone,
        settings::settings_set_time_zone,
        settings::settings_location_days,
        settings::settings_set_location_days,
        advice::advice_list,
        advice::advice_section,
        advice::advice_set_tick,
        sos::sos_guides,
        sos::sos_resolve,
        sos::sos_guide,
        sos::sos_set_tick,
        sos::sos_devices,
        sos::sos_add_device,
        sos::sos_remove_device,
        contacts::contacts_list,
        contacts::contacts_save,
        contacts::contacts_clear,
        donotknock::dnk_register,
        donotknock::dnk_add,
        donotknock::dnk_keep,
        donotknock::dnk_remove,
        donotknock::dnk_preview,
        donotknock::dnk_import,
        donotknock::dnk_export,
        donotknock::dnk_for_place,
        plans::plans_choices,
        plans::plans_list,
        plans::plans_detail,
        plans::plans_create,
        plans::plans_update,
        plans::plans_answer_risks,
        plans::plans_copy,
        plans::plans_delete,
        plans::plans_start,
        aftercare::aftercare_debrief,
        aftercare::aftercare_debriefed,
        aftercare::aftercare_follow_ups,
        aftercare::aftercare_complete,
        aftercare::aftercare_support,
        aftercare::review_status,
        aftercare::review_record,
        aftercare::review_set_weeks,
        checkins::checkins_active,
        checkins::checkins_detail,
        checkins::checkins_start,
        checkins::checkins_check_in,
        checkins::checkins_extend,
        checkins::checkins_end,
        checkins::checkins_acknowledge,
        checkins::checkins_ask,
        checkins::checkins_acknowledge_duress,
        checkins::checkins_snooze,
        checkins::alarms_open,
        incidents::incidents_vocabulary,
        incidents::incidents_list,
        incidents::incidents_detail,
        incidents::incidents_record,
        incidents::incidents_amend,
        incidents::incidents_withdraw,
        incidents::incidents_erase,
        incidents::incidents_attach,
        incidents::incidents_people,
        incidents::incidents_person,
        incidents::incidents_verify,
        incidents::incidents_export_folder,
        incidents::incidents_export,
        incidents::incidents_import,
        team::team_status,
        team::team_sign_in,
        team::team_confirm_device,
        team::team_keep_recovery_key,
        team::team_confirm_with_kept_key,
        team::team_acknowledge_identity,
        team::team_compare_start,
        team::team_compare_accept,
        team::team_compare_answer,
        team::team_compare_stop,
        team::team_create,
        team::team_join,
        team::team_invite,
        team::team_set_duress_word,
        team::team_members,
        team::team_leave,
        team::team_sign_out,
        team::team_reconnect,
        team::checkins_share,
        pickers::choose_folder,
        pickers::choose_file,
    ]
}
