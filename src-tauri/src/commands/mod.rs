//! The IPC layer: thin adapters from Tauri commands to the domain modules.
//! Every command returns `Result<_, IpcError>` so the UI gets one error shape.
//! Each command must also be listed in `src-tauri/build.rs` and granted in
//! `src-tauri/capabilities/`.

mod advice;
mod app;
mod args;
mod backup;
mod checkins;
mod contacts;
mod incidents;
mod pickers;
mod settings;
mod sos;
mod team;

pub use self::checkins::WindowAlarms;
use tauri::ipc::Invoke;
use tauri::Runtime;

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

pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_status,
        app::unlock_record,
        backup::backup_status,
        backup::backup_write,
        backup::backup_restore,
        app::startup_probe,
        app::emergency_info,
        settings::settings_time_zone,
        settings::settings_set_time_zone,
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
        checkins::checkins_active,
        checkins::checkins_detail,
        checkins::checkins_start,
        checkins::checkins_check_in,
        checkins::checkins_extend,
        checkins::checkins_end,
        checkins::checkins_acknowledge,
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
        team::team_create,
        team::team_join,
        team::team_invite,
        team::team_members,
        team::team_leave,
        team::team_sign_out,
        team::team_reconnect,
        team::checkins_share,
        pickers::choose_folder,
        pickers::choose_file,
    ]
}
