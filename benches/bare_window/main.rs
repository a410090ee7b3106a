//! A bare Tauri 2 window: the same tauri version and profile as the app, nothing else.
//! The benchmarks measure it in the same run as Campaign Safe and report ratios.

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!(
            "benches/bare_window/tauri.conf.json"
        ))
        .expect("the bare window runs");
}
