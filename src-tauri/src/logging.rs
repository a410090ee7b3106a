//! Logs go to daily files in the app's log folder (kept for 14 days) and to stderr.

use std::path::Path;
use std::sync::Mutex;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// Keeps the background log writer alive until the process ends (or `finish` is called).
static FILE_WRITER: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Lines the background writer may hold before newer ones are dropped. The app logs a few
/// lines a minute; tracing-appender's default (128,000) sets aside 4 MB at every start.
const BUFFERED_LINES: usize = 2_000;

/// Starts logging once per process. A log folder that cannot be created is reported on
/// stderr and the app carries on: logs are never a reason not to start.
pub fn init(log_dir: &Path) {
    if file_writer().is_some() {
        return;
    }
    // The Matrix SDK logs only its warnings: its own info lines name rooms and users, and the
    // app's log must hold no names (it never holds tokens or passphrases either way).
    let filter = || {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("info,matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_sqlite=warn,matrix_sdk_common=warn"))
    };
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());

    let file_appender = std::fs::create_dir_all(log_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("campaign-safe")
                .filename_suffix("log")
                .max_log_files(14)
                .build(log_dir)
                .map_err(|e| e.to_string())
        });
    match file_appender {
        Ok(appender) => {
            let (writer, guard) = NonBlockingBuilder::default()
                .buffered_lines_limit(BUFFERED_LINES)
                .finish(appender);
            let file_layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            if tracing_subscriber::registry()
                .with(stderr_layer)
                .with(file_layer)
                .try_init()
                .is_ok()
            {
                *file_writer() = Some(guard);
            }
        }
        Err(error) => {
            let _ = tracing_subscriber::registry().with(stderr_layer).try_init();
            tracing::warn!(dir = %log_dir.display(), "cannot write log files: {error}");
        }
    }
}

fn file_writer() -> std::sync::MutexGuard<'static, Option<WorkerGuard>> {
    // A thread that panicked while holding it cannot have left the guard half-set.
    FILE_WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes out the lines still buffered, for a process about to end without running its
/// destructors. Lines logged afterwards go to stderr only.
pub fn finish() {
    drop(file_writer().take());
}
