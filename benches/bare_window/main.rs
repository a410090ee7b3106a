//! A bare Tauri 2 window: the same tauri version and profile as the app, nothing else.
//! The benchmarks measure it in the same run as Campaign Safe and report ratios.

fn probing() -> bool {
    std::env::var_os("CAMPAIGN_SAFE_STARTUP_PROBE").is_some()
}

/// The same start-up probe as the app's (src-tauri/src/lib.rs), for benches/startup.rs.
#[tauri::command]
fn startup_probe(moment: String, ms: f64) {
    if probing() {
        println!("startup-probe {moment} {ms:.1}");
    }
}

fn main() {
    let mut builder = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![startup_probe])
        .on_page_load(|_, page| {
            if probing() {
                let event = match page.event() {
                    tauri::webview::PageLoadEvent::Started => "started",
                    tauri::webview::PageLoadEvent::Finished => "finished",
                };
                println!("startup-probe page-{event}");
            }
        });
    if probing() {
        // The page's DOMContentLoaded time, injected as the app injects it.
        builder = builder.plugin(
            tauri::plugin::Builder::<tauri::Wry>::new("startup-probe")
                .js_init_script(include_str!("../../src-tauri/src/startup_probe.js"))
                .build(),
        );
    }
    builder
        .run(tauri::generate_context!(
            "benches/bare_window/tauri.conf.json"
        ))
        .expect("the bare window runs");
}
