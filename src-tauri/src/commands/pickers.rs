//! Native pickers for where an evidence pack goes and which pack to import.
//!
//! The dialog plugin is driven from here, so the window itself is granted none of the
//! plugin's commands: it can ask for a folder or a pack, and gets back a path or nothing.

use super::args::Arg;
use serde::Deserialize;
use tauri::{Runtime, WebviewWindow};
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder, FilePath};

use crate::error::IpcError;

/// What the user is choosing; each has its own dialog title.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    /// The folder an evidence pack is made in.
    PackFolder,
    /// A pack to import: its incidents.json.
    PackToImport,
    /// The folder a backup is written in.
    BackupFolder,
    /// A backup to restore.
    BackupToRestore,
    /// The party's do-not-knock list, as CSV.
    DoNotKnockList,
    /// The folder the do-not-knock list is exported to.
    DoNotKnockFolder,
}

impl Purpose {
    fn title(self) -> &'static str {
        match self {
            Purpose::PackFolder => "Choose where the evidence pack goes",
            Purpose::PackToImport => "Choose the pack’s incidents.json",
            Purpose::BackupFolder => "Choose where the backup goes",
            Purpose::BackupToRestore => "Choose the backup to restore",
            Purpose::DoNotKnockList => "Choose the do-not-knock list (CSV)",
            Purpose::DoNotKnockFolder => "Choose where the do-not-knock list goes",
        }
    }
}

fn dialog<R: Runtime>(
    window: &WebviewWindow<R>,
    purpose: Purpose,
    start: Option<String>,
) -> FileDialogBuilder<R> {
    let mut dialog = window.dialog().file().set_title(purpose.title());
    #[cfg(desktop)]
    {
        dialog = dialog.set_parent(window);
    }
    if let Some(start) = start.map(std::path::PathBuf::from) {
        // Open where the typed path points, or the nearest folder that exists.
        if let Some(folder) = start.ancestors().find(|folder| folder.is_dir()) {
            dialog = dialog.set_directory(folder);
        }
    }
    match purpose {
        Purpose::PackToImport => dialog = dialog.add_filter("Campaign Safe pack", &["json"]),
        Purpose::BackupToRestore => {
            dialog = dialog.add_filter("Campaign Safe backup", &[crate::backup::EXTENSION])
        }
        Purpose::DoNotKnockList => dialog = dialog.add_filter("CSV file", &["csv"]),
        Purpose::PackFolder | Purpose::BackupFolder | Purpose::DoNotKnockFolder => {}
    }
    dialog
}

/// A picked path as text, or nothing when the dialog was closed.
fn chosen(picked: Option<FilePath>) -> Result<Option<String>, IpcError> {
    picked
        .map(|path| {
            path.into_path()
                .map(|path| path.display().to_string())
                .map_err(|error| {
                    IpcError::new("picker", format!("That place cannot be used: {error}"))
                })
        })
        .transpose()
}

fn picker_failed(error: impl std::fmt::Display) -> IpcError {
    tracing::error!("the picker failed: {error}");
    IpcError::new(
        "picker",
        "The picker could not open. Type the path instead.",
    )
}

/// Opens the folder picker; `None` when the user closed it without choosing.
#[tauri::command]
pub async fn choose_folder<R: Runtime>(
    window: WebviewWindow<R>,
    purpose: Arg<Purpose>,
    start: Arg<Option<String>>,
) -> Result<Option<String>, IpcError> {
    #[cfg(desktop)]
    {
        let dialog = dialog(&window, purpose.0, start.0);
        let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_folder())
            .await
            .map_err(picker_failed)?;
        chosen(picked)
    }
    #[cfg(mobile)]
    {
        let _ = (window, purpose, start);
        Err(IpcError::new(
            "not_available",
            "Choosing a folder is not available on this device. Type the folder instead.",
        )
        .with_field("folder"))
    }
}

/// Opens the file picker; `None` when the user closed it without choosing.
#[tauri::command]
pub async fn choose_file<R: Runtime>(
    window: WebviewWindow<R>,
    purpose: Arg<Purpose>,
    start: Arg<Option<String>>,
) -> Result<Option<String>, IpcError> {
    let dialog = dialog(&window, purpose.0, start.0);
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_file())
        .await
        .map_err(picker_failed)?;
    chosen(picked)
}
