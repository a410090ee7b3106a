//! The IPC layer: thin adapters from Tauri commands to the domain modules.
//! Every command returns `Result<_, IpcError>` so the UI gets one error shape.
//! Each command must also be listed in `src-tauri/build.rs` and granted in
//! `src-tauri/capabilities/`.

mod advice;
mod app;

use tauri::ipc::Invoke;
use tauri::Runtime;

pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_status,
        advice::advice_list,
        advice::advice_section,
        advice::advice_set_tick,
    ]
}
