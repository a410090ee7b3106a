//! A plain Tauri 2 app: one window showing one static page. The start-up and idle benchmarks
//! measure Campaign Safe beside it, in the same run, and report ratios.
//!
//! Its only addition is the start-up probe the app has too (src-tauri/src/startup.rs), and
//! only when `CAMPAIGN_SAFE_STARTUP_PROBE` is set, so both print the same moments.

fn probing() -> bool {
    std::env::var_os("CAMPAIGN_SAFE_STARTUP_PROBE").is_some()
}

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
        // The page's own times (DOMContentLoaded, first paint), injected as the app injects
        // them: the same script file, so both report alike.
        builder = builder.plugin(
            tauri::plugin::Builder::<tauri::Wry>::new("startup-probe")
                .js_init_script(include_str!("../../../src-tauri/src/startup_probe.js"))
                .build(),
        );
    }
    builder
        .run(tauri::generate_context!())
        .expect("the bare Tauri app runs");
}
