//! A bare Tauri 2 window: the same tauri version and profile as the app, nothing else.
//! The benchmarks measure it in the same run as Campaign Safe and report ratios.

fn main() {
    tauri::Builder::default()
        // The same start-up probe as the app's (src-tauri/src/lib.rs), for benches/startup.rs.
        .on_page_load(|_, page| {
            if std::env::var_os("CAMPAIGN_SAFE_STARTUP_PROBE").is_some() {
                let event = match page.event() {
                    tauri::webview::PageLoadEvent::Started => "started",
                    tauri::webview::PageLoadEvent::Finished => "finished",
                };
                println!("startup-probe page-{event}");
            }
        })
        .run(tauri::generate_context!(
            "benches/bare_window/tauri.conf.json"
        ))
        .expect("the bare window runs");
}
