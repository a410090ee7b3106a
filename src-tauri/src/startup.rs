//! The start-up benchmark's probe (`cargo bench --bench startup`): moments of start-up
//! printed when the benchmark sets `CAMPAIGN_SAFE_STARTUP_PROBE`, and nothing otherwise.

use tauri::Runtime;

/// `cargo bench --bench startup` sets `CAMPAIGN_SAFE_STARTUP_PROBE` and times these lines
/// (the bare reference window prints the page ones too).
pub(crate) fn startup_probe<R: Runtime>(
    _: &tauri::Webview<R>,
    page: &tauri::webview::PageLoadPayload<'_>,
) {
    probe(match page.event() {
        tauri::webview::PageLoadEvent::Started => "page-started",
        tauri::webview::PageLoadEvent::Finished => "page-finished",
    });
}

/// A start-up moment for the benchmark; nothing unless it asked.
pub(crate) fn probe(moment: &str) {
    if probing() {
        // Not println!: a benchmark that stopped reading must not end the app.
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), "startup-probe {moment}");
    }
}

pub(crate) fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64() * 1000.0)
}

pub(crate) fn probing() -> bool {
    std::env::var_os("CAMPAIGN_SAFE_STARTUP_PROBE").is_some()
}
