//! What only tests ask of a debug build: a clock set ahead, an upgrade held back, and the
//! Print button's pages sent to a PDF file. A release build has none of them.

use std::sync::Arc;

use crate::time::Clock;

/// Debug builds only: `CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES` starts the app that many
/// minutes in the future, so end-to-end tests can check what happens after a due time.
#[cfg(debug_assertions)]
pub(crate) fn test_clock() -> Option<Arc<dyn Clock>> {
    let minutes: i64 = std::env::var("CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES")
        .ok()?
        .parse()
        .ok()?;
    tracing::warn!(minutes, "test clock offset in use");
    Some(Arc::new(crate::time::OffsetClock(
        chrono::Duration::minutes(minutes),
    )))
}

#[cfg(not(debug_assertions))]
pub(crate) fn test_clock() -> Option<Arc<dyn Clock>> {
    None
}

/// Debug builds only: `CAMPAIGN_SAFE_TEST_HOLD_RECORD` names a file that opening the record
/// behind the window waits for, so an end-to-end test can see the window while the record is
/// still being opened or upgraded.
pub(crate) fn hold_record_opening_for_tests() {
    hold_while_missing("CAMPAIGN_SAFE_TEST_HOLD_RECORD");
}

/// Debug builds only: with `CAMPAIGN_SAFE_TEST_HOLD_KEY` naming a file, reading the record's
/// key at start waits for it (as a keyring that asks its owner to unlock it would), so an
/// end-to-end test can see the window before anything is known of the record.
pub(crate) fn hold_key_reading_for_tests() {
    hold_while_missing("CAMPAIGN_SAFE_TEST_HOLD_KEY");
}

#[cfg(debug_assertions)]
fn hold_while_missing(variable: &str) {
    let Some(release) = std::env::var_os(variable) else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::path::Path::new(&release).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(not(debug_assertions))]
fn hold_while_missing(_: &str) {}

/// Debug builds only: with `CAMPAIGN_SAFE_TEST_PRINT_TO` naming a PDF file, the page is
/// printed through WebKitGTK's own print operation (the one the Print button's dialog runs),
/// on A4 and with no dialog, each time a file of that name plus `.print-now` appears. (Under
/// WebDriver, WebKit does not pass the page's `window.print()` on.)
#[cfg(all(debug_assertions, target_os = "linux"))]
pub(crate) fn print_to_file_for_tests<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let Some(path) = std::env::var_os("CAMPAIGN_SAFE_TEST_PRINT_TO") else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let request = path.with_extension("pdf.print-now");
    let uri = format!("file://{}", path.display());
    tracing::warn!(%uri, "test hook: printing goes to a file");
    let window = window.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if std::fs::remove_file(&request).is_err() {
            continue;
        }
        let uri = uri.clone();
        let printed = window.with_webview(move |webview| {
            use webkit2gtk::PrintOperationExt;
            let operation = webkit2gtk::PrintOperation::new(&webview.inner());
            let settings = gtk::PrintSettings::new();
            settings.set_printer("Print to File");
            settings.set(gtk::PRINT_SETTINGS_OUTPUT_URI, Some(&uri));
            settings.set(gtk::PRINT_SETTINGS_OUTPUT_FILE_FORMAT, Some("pdf"));
            operation.set_print_settings(&settings);
            let setup = gtk::PageSetup::new();
            setup.set_paper_size(&gtk::PaperSize::new(Some(gtk::PAPER_NAME_A4)));
            operation.set_page_setup(&setup);
            operation
                .connect_failed(|_, error| tracing::error!("test hook: printing failed: {error}"));
            operation.print();
            tracing::warn!(%uri, "test hook: printing");
        });
        if let Err(error) = printed {
            tracing::error!("test hook: could not print: {error}");
        }
    });
}

#[cfg(not(all(debug_assertions, target_os = "linux")))]
pub(crate) fn print_to_file_for_tests<R: tauri::Runtime>(_: &tauri::WebviewWindow<R>) {}
