//! A bare Tauri 2 window: the same tauri version and profile as the app, nothing else.
//! The benchmarks measure it in the same run as Campaign Safe and report ratios.

fn main() {
    tauri::Builder::default()
        // The same start-up probe as the app's (src-tauri/src/lib.rs), for benches/startup.rs.
        .on_page_load(|webview, page| {
            if std::env::var_os("CAMPAIGN_SAFE_STARTUP_PROBE").is_none() {
                return;
            }
            match page.event() {
                tauri::webview::PageLoadEvent::Started => println!("startup-probe page-started"),
                tauri::webview::PageLoadEvent::Finished => {
                    println!("startup-probe page-finished");
                    let webview = webview.clone();
                    std::thread::spawn(move || {
                        const READ: &str = "document.title = 'dcl:' + performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd.toFixed(1)";
                        for _ in 0..250 {
                            let _ = webview.eval(READ);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            let title = webview.window().title().unwrap_or_default();
                            if let Some(ms) = title.strip_prefix("dcl:") {
                                println!("startup-probe dom-content-loaded {ms}");
                                return;
                            }
                        }
                    });
                }
            }
        })
        .run(tauri::generate_context!(
            "benches/bare_window/tauri.conf.json"
        ))
        .expect("the bare window runs");
}
