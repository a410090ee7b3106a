//! Campaign Safe: an offline safety companion for UK election candidates and canvass teams.
//!
//! Domain modules (`advice`, `storage`, `content`, `time`) are plain Rust and know nothing of
//! Tauri; `commands` adapts them to IPC; this file wires the app together.

pub mod advice;
pub mod aftercare;
pub mod alarms;
pub mod applock;
pub mod backup;
pub mod bidi;
pub mod changes;
pub mod checkins;
pub mod checklist;
mod commands;
pub mod contacts;
pub mod content;
pub mod donotknock;
pub mod emergency;
pub mod error;
pub mod footprint;
pub mod guides;
pub mod incidents;
pub mod input_file;
pub mod locations;
mod logging;
pub mod notify;
pub mod plans;
pub mod plausible;
pub mod relay;
pub mod settings;
mod startup;
pub mod state;
pub mod storage;
mod test_hooks;
pub mod time;
pub mod tries;
pub mod vault;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::{Emitter, Manager, Runtime};

use crate::alarms::hub::AlarmHub;
use crate::checkins::runner::Runner;
use crate::notify::Notifier;
use crate::state::{AppState, Ask};
use crate::storage::DATA_DIR_ENV;
use crate::time::{Clock, SystemClock};
use crate::vault::{AtStart, DataKey, Keyring};

/// The label of the app's one window; capabilities are granted to it by this name.
pub const MAIN_WINDOW: &str = "main";

/// How an app instance is set up. Tests build their own; `run()` reads the environment.
pub struct Options {
    /// Where all data goes. `None` means the platform's app data folder.
    pub data_dir: Option<PathBuf>,
    pub clock: Arc<dyn Clock>,
    pub notifier: Arc<dyn Notifier>,
    /// Lock the data folder so only one copy of the app uses the record, and hand a second
    /// launch over to the first. Tests that start the app twice in one process leave it off.
    pub one_copy_per_record: bool,
    /// Where the record's key is kept: the desktop's keyring, or a stand-in in tests.
    pub keyring: Arc<dyn Keyring>,
}

impl Options {
    pub fn from_env() -> Self {
        let data_dir = std::env::var_os(DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self {
            data_dir,
            clock: test_hooks::test_clock().unwrap_or_else(|| Arc::new(SystemClock)),
            notifier: default_notifier(),
            one_copy_per_record: true,
            keyring: vault::system_keyring(),
        }
    }
}

/// Desktop notifications, on the tokio runtime Tauri already runs.
#[cfg(target_os = "linux")]
fn default_notifier() -> Arc<dyn Notifier> {
    let runtime = tauri::async_runtime::handle().inner().clone();
    Arc::new(notify::DesktopNotifier::new("Campaign Safe", runtime))
}

/// Elsewhere (phones; macOS and Windows are untested) the in-app alarm is used until
/// OS-scheduled notifications are added.
#[cfg(not(target_os = "linux"))]
fn default_notifier() -> Arc<dyn Notifier> {
    Arc::new(notify::InAppOnly)
}

/// The app's configuration from `tauri.conf.json`, for any runtime (tests use the mock one,
/// so they run with the real capabilities).
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// Adds the commands, state and main window to a builder. Shared by `run()` and the tests.
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, options: Options) -> tauri::Builder<R> {
    builder
        // Used from Rust only (commands/pickers.rs); the window is granted none of its commands.
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(commands::handler())
        .on_page_load(startup::startup_probe)
        .setup(move |app| {
        startup::probe("setup");
        let (data_dir, log_dir) = match options.data_dir {
            Some(dir) => (dir.clone(), dir.join("logs")),
            None => (app.path().app_data_dir()?, app.path().app_log_dir()?),
        };
        logging::init(&log_dir);
        tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %data_dir.display(), "starting");

        let webview_dir = data_dir.join("webview");
        // One copy per record: a second launch hands over and exits before loading anything.
        let lock = match options
            .one_copy_per_record
            .then(|| storage::instance::claim(&data_dir))
        {
            None => Ok(None),
            Some(Ok(storage::instance::Claim::Ours(lock))) => Ok(Some(lock)),
            Some(Ok(storage::instance::Claim::HandedOver)) => {
                tracing::info!("already running with this record: brought it forward");
                exit_at_once(0);
            }
            Some(Err(error)) => Err(error),
        };
        app.manage(AppState::new(data_dir.clone(), options.clock));
        match lock {
            Ok(None) => {}
            Ok(Some(lock)) => {
                let handle = app.handle().clone();
                if let Err(error) = storage::instance::listen(&lock, move || come_forward(&handle)) {
                    tracing::warn!("a second launch cannot hand over to this one: {error}");
                }
                app.manage(lock);
            }
            Err(error) => {
                // The window still opens (Emergency and the guides need no record) and says
                // why nothing can be saved; the record is never opened.
                tracing::error!("{error}");
                app.state::<AppState>().refuse_database(error);
                open_main_window(app.handle(), webview_dir)?;
                return Ok(());
            }
        }
        let handle = app.handle().clone();
        let notifier = options.notifier;
        let state = app.state::<AppState>();
        if let Err(source) = std::fs::create_dir_all(&data_dir) {
            let error = storage::StorageError::DataDir { path: data_dir, source };
            tracing::error!("{error}");
            state.refuse_database(error);
            open_main_window(app.handle(), webview_dir)?;
            return Ok(());
        }
        notifier.keep_track_in(&data_dir);
        #[cfg(unix)]
        quit_on_terminate(app.handle().clone());
        let _ = state.keyring.set(options.keyring.clone());
        // The window comes first, and the record's key is read and the record opened behind
        // it: the keyring is a round trip to another process, which may even ask its owner
        // to unlock it. Until then the record is "opening" and the first screen waits.
        open_main_window(app.handle(), webview_dir)?;
        startup::probe("window-built");
        open_record_behind(&handle, Behind::ReadKey(options.keyring), notifier)?;
        Ok(())
    })
}

/// What the thread opening the record behind the window starts from.
pub(crate) enum Behind {
    /// At start: the key is read from the keyring first (or the passphrase asked for).
    ReadKey(Arc<dyn Keyring>),
    /// The key, from the passphrase just typed.
    Key(DataKey),
}

/// Reads the record's key at start. With it, says whether opening will upgrade what an
/// earlier version left (the window says so meanwhile); without it, the record waits for
/// its passphrase or is refused, and the window is told to ask again (`record-status`).
fn key_at_start<R: Runtime>(
    handle: &tauri::AppHandle<R>,
    keyring: &dyn Keyring,
    notifier: &Arc<dyn Notifier>,
) -> Option<DataKey> {
    let state = handle.state::<AppState>();
    let data_dir = &state.data_dir;
    test_hooks::hold_key_reading_for_tests();
    let record_exists = storage::holds_encrypted_record(data_dir);
    let key = match vault::at_start(data_dir, keyring, record_exists) {
        // An upgrade of an earlier version's record (its schema, or encrypting it) can take
        // seconds on a large log. With a PIN set the app is locked before the record is
        // handed out (`AppState::open_database`).
        Ok(AtStart::Ready(key)) => {
            if !upgrade_pending(data_dir, &key) {
                // Opened at once: `record-ready` says so.
                return Some(key);
            }
            tracing::info!("upgrading the record with the window open");
            state.announce_upgrade();
            Some(key)
        }
        Ok(AtStart::EnterPassphrase) => {
            tracing::info!("the record waits for its passphrase");
            state.await_passphrase(Ask::Enter, notifier.clone());
            None
        }
        Ok(AtStart::ChoosePassphrase { why }) => {
            tracing::info!("no keyring: a passphrase is asked for the record's key");
            state.await_passphrase(Ask::Choose { why }, notifier.clone());
            None
        }
        Err(error) => {
            tracing::error!("{error}");
            state.refuse_database(storage::StorageError::Key(error));
            None
        }
    };
    if let Err(error) = handle.emit("record-status", ()) {
        tracing::warn!("the window was not told what became of the record: {error}");
    }
    key
}

/// Whether opening the record will upgrade what an earlier version left (its schema, or
/// encrypting it and its attachments): the window is shown first then.
fn upgrade_pending(data_dir: &std::path::Path, key: &DataKey) -> bool {
    storage::upgrade_pending(data_dir, key)
        || incidents::attachments::AttachmentStore::new(data_dir, key).has_plain_files()
}

/// Opens the record on a thread of its own, the window already up, and tells the window when
/// it is ready: at start, after an upgrade, or once its passphrase is typed.
pub(crate) fn open_record_behind<R: Runtime>(
    handle: &tauri::AppHandle<R>,
    from: Behind,
    notifier: Arc<dyn Notifier>,
) -> std::io::Result<()> {
    let handle = handle.clone();
    std::thread::Builder::new()
        .name("open-record".into())
        .spawn(move || {
            let key = match from {
                Behind::Key(key) => key,
                Behind::ReadKey(keyring) => {
                    match key_at_start(&handle, keyring.as_ref(), &notifier) {
                        Some(key) => key,
                        None => return,
                    }
                }
            };
            test_hooks::hold_record_opening_for_tests();
            let team = start_services(&handle, &key, notifier);
            handle.state::<AppState>().mark_started();
            startup::probe("record-open");
            if let Err(error) = handle.emit("record-ready", ()) {
                tracing::warn!("the window was not told the record is open: {error}");
            }
            if let Some(team) = team {
                tauri::async_runtime::spawn(async move { team.restore().await });
            }
        })
        .map(drop)
}

/// Opens the record, then starts what needs it: the alarms, the team relay and the
/// check-in scheduler. With no usable database none of them runs; the window says why.
fn start_services<R: Runtime>(
    handle: &tauri::AppHandle<R>,
    key: &DataKey,
    notifier: Arc<dyn Notifier>,
) -> Option<Arc<relay::matrix::TeamService>> {
    let state = handle.state::<AppState>();
    let database = state.open_database(key).ok()?.clone();
    // What a backup or restore killed part-way left; off the start-up path, since the last
    // backup's folder may be a slow memory stick or a share that is not there.
    let (cleaning, data_dir) = (database.clone(), state.data_dir.clone());
    let _ = std::thread::Builder::new()
        .name("backup-leftovers".into())
        .spawn(move || backup::clean_after_crash(&cleaning.reader(), &data_dir));
    // An earlier version's attachments were stored unsealed: sealed now, each one checked.
    let files = incidents::attachments::AttachmentStore::new(&state.data_dir, key);
    if let Err(error) = files.seal_plain_files() {
        tracing::error!("attachments could not all be sealed; tried again at next start: {error}");
    }
    // Everything that must hear of a change listens on one channel: the scheduler (from the
    // state's creation), the alarms (and through them the window), the team relay, and the
    // window for the lists that have no alarms.
    let alarms = AlarmHub::new(
        database.clone(),
        state.clock.clone(),
        notifier,
        Arc::new(commands::WindowAlarms(handle.clone())),
        state.sessions_sink.clone(),
        state.changes.clone(),
    );
    state.set_alarms(alarms);
    state
        .changes
        .listen(Arc::new(commands::WindowChanges(handle.clone())));
    let team = relay::matrix::TeamService::new(
        database.clone(),
        state.data_dir.clone(),
        state.clock.clone(),
        tauri::async_runtime::handle().inner().clone(),
        state.changes.clone(),
    );
    state.set_team(team.clone());
    locations::keeper::spawn(database.clone(), state.clock.clone(), &state.changes);
    let runner = Runner {
        database,
        clock: state.clock.clone(),
        sink: state.sessions_sink.clone(),
        changes: state.changes.clone(),
        handle: state.scheduler.clone(),
    };
    if let Err(error) = runner.spawn() {
        tracing::error!("the check-in scheduler could not start: {error}");
    }
    Some(team)
}

fn open_main_window<R: Runtime>(
    app: &tauri::AppHandle<R>,
    webview_dir: PathBuf,
) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN_WINDOW)
        .cloned()
        .unwrap_or_default();
    let opener = app.clone();
    let mut window = tauri::WebviewWindowBuilder::from_config(app, &config)?
        // The app is offline and self-contained: never navigate the window away from it. A
        // map link opens in the device's own map app or browser instead.
        .on_navigation(move |url| {
            if is_map_link(url) {
                use tauri_plugin_opener::OpenerExt;
                tracing::info!("a map link was opened outside the app");
                if let Err(error) = opener.opener().open_url(url.as_str(), None::<&str>) {
                    tracing::warn!("the map link could not be opened: {error}");
                }
                return false;
            }
            is_app_url(url)
        });
    if startup::probing() {
        window = window
            .initialization_script(include_str!("startup_probe.js"))
            // When each file of the page is served, for the benchmark's waterfall.
            // On the page's clock once the page says when that started (ms since the epoch).
            .on_web_resource_request(|request, _| {
                startup::probe(&format!(
                    "served {} {:.1}",
                    request.uri().path(),
                    startup::epoch_ms()
                ))
            });
    }
    // Keep the webview's own storage with the rest of the app's data. If that folder is
    // unusable the start-up banner says so; the window must still open.
    match std::fs::create_dir_all(&webview_dir) {
        Ok(()) => window = window.data_directory(webview_dir),
        Err(error) => {
            tracing::warn!(dir = %webview_dir.display(), "webview storage falls back to the default: {error}")
        }
    }
    let window = window.build()?;
    test_hooks::print_to_file_for_tests(&window);
    Ok(())
}

/// A second launch asked this copy to come forward.
fn come_forward<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// A link to a place: `geo:` (the device's map app) or an OpenStreetMap page.
fn is_map_link(url: &tauri::Url) -> bool {
    url.scheme() == "geo"
        || (url.scheme() == "https" && url.host_str() == Some("www.openstreetmap.org"))
}

fn is_app_url(url: &tauri::Url) -> bool {
    matches!(url.scheme(), "tauri" | "asset") || url.host_str() == Some("tauri.localhost")
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    startup::probe("main");
    let builder = tauri::Builder::default();
    let options = Options::from_env();
    let notifier = options.notifier.clone();
    let app = match setup(builder, options).build(context()) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("Campaign Safe could not start: {error}");
            std::process::exit(1);
        }
    };
    app.run(move |_, event| {
        // No notice outlives the app: an alarm nobody can answer here must not stay up.
        if let tauri::RunEvent::Exit = event {
            notifier.close_all();
        }
    });
}

/// Ends the process without the C library's exit handlers: GTK, WebKit and the runtime's
/// threads are still running, and their libraries' teardown racing them can crash a copy
/// that has nothing to clean up (a second launch died of SIGSEGV this way, once in CI).
fn exit_at_once(code: i32) -> ! {
    logging::finish();
    #[cfg(target_os = "linux")]
    // SAFETY: `_exit` only ends the process; nothing this copy holds needs tearing down
    // (the log was written out above; the database was never opened).
    unsafe {
        libc::_exit(code)
    }
    #[cfg(not(target_os = "linux"))]
    std::process::exit(code)
}

/// Logging out (or `kill`) sends SIGTERM: the app quits as if closed, so its notices go too.
#[cfg(unix)]
fn quit_on_terminate<R: Runtime>(handle: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut terminate), Ok(mut interrupt)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("asked to quit");
        handle.exit(0);
        // Quitting must not hang on a window that no longer answers (its web process
        // gone): the notices are taken down first, then the process ends all the same.
        std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_secs(3));
            tracing::warn!("the window did not close in 3 s: ending now");
            exit_at_once(0);
        });
    });
}
