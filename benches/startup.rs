//! Start-up beside a bare Tauri window: `cargo bench --bench startup`.
//!
//! The app and the bare window of benches/bare_window, both built here with the same tauri
//! version, profile (release unless PROFILE says otherwise) and features, are started in turn under Xvfb, RUNS times each
//! (default 7), after one warm-up start each that is not counted. Each program keeps one
//! data folder across its starts, made by the warm-up, as a user's would be (the bare
//! window's web view data lives in its own folder under the home directory likewise). Timed from spawn, as the programs report it on
//! standard output (`CAMPAIGN_SAFE_STARTUP_PROBE`): the page starting to load (the window
//! and its web view exist) and the page finished (its scripts ran and the load event
//! fired), and the page's own DOMContentLoaded time from the start of its navigation
//! (reported by an injected script, `src-tauri/src/startup_probe.js`). Then, after SETTLE seconds (default 5), the proportional memory (PSS) of the
//! program and its WebKit processes. Medians, and the app's figures as ratios to the
//! window's, measured in the same run because these machines are noisy. Also the size of
//! both programs.
//!
//! The PSS of each process is printed too, and SMAPS_DIR=folder keeps their memory maps.
//!
//! Targets (issue 12): page started ≤ 1.15×, PSS ≤ 1.15×, DOMContentLoaded ≤ 60 ms.

#[allow(dead_code)] // The idle counters in procs.rs are for benches/idle.rs.
#[path = "support/procs.rs"]
mod procs;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use procs::{family, pss_kib, seconds, Desktop};

struct Start {
    started_ms: f64,
    finished_ms: f64,
    content_loaded_ms: f64,
    pss_mib: f64,
    /// PSS of each process (app, web, network), to see where a difference lies.
    pss_by_process: std::collections::BTreeMap<String, f64>,
}

/// Reads the probe lines until the page has finished loading and reported its
/// DOMContentLoaded: spawn to page started, to page finished, and the page's own
/// DOMContentLoaded time from the start of its navigation.
fn wait_for_page(child: &mut Child, spawned: Instant) -> (f64, f64, f64) {
    let stdout = child.stdout.take().expect("piped stdout");
    let (mut started, mut finished) = (None, None);
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("probe output");
        let at = spawned.elapsed().as_secs_f64() * 1000.0;
        match line.trim() {
            "startup-probe page-started" => started = started.or(Some(at)),
            "startup-probe page-finished" => finished = finished.or(Some(at)),
            other => {
                if let Some(ms) = other.strip_prefix("startup-probe dom-content-loaded ") {
                    let ms = ms.parse().expect("a time in ms");
                    return (
                        started.expect("page-started comes first"),
                        finished.expect("page-finished comes first"),
                        ms,
                    );
                }
            }
        }
        seen.push(line);
    }
    panic!("the program ended before its page reported DOMContentLoaded; it printed: {seen:?}");
}

fn start_once(binary: &Path, data: &Path) -> Start {
    let desktop = Desktop::start();
    let spawned = Instant::now();
    let mut child = desktop.spawn(binary, data, &[("CAMPAIGN_SAFE_STARTUP_PROBE", "1")]);
    let (started_ms, finished_ms, content_loaded_ms) = wait_for_page(&mut child, spawned);
    std::thread::sleep(Duration::from_secs(seconds("SETTLE", 5)));
    let processes = family(child.id());
    assert!(
        processes.contains_key("web"),
        "no web process after settling"
    );
    let pss_by_process: std::collections::BTreeMap<String, f64> = processes
        .iter()
        .map(|(name, pid)| (name.clone(), pss_kib(*pid) as f64 / 1024.0))
        .collect();
    let pss_mib = pss_by_process.values().sum();
    // SMAPS_DIR=folder keeps each process's memory map (of the last start), to see what
    // the difference is made of.
    if let Ok(dir) = std::env::var("SMAPS_DIR") {
        let program = binary.file_name().unwrap_or_default().to_string_lossy();
        for (name, pid) in &processes {
            let to = Path::new(&dir).join(format!("{program}-{name}.smaps"));
            if let Err(error) = std::fs::copy(format!("/proc/{pid}/smaps"), &to) {
                eprintln!("could not keep {}: {error}", to.display());
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Start {
        started_ms,
        finished_ms,
        content_loaded_ms,
        pss_mib,
        pss_by_process,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // The release profile by default (LTO and size matter here), as `make package` builds;
    // PROFILE=bench for the quicker build the other benchmarks use.
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "release".into());
    let options = [
        "--profile",
        profile.as_str(),
        "--features",
        "custom-protocol",
    ];
    let bare = procs::built_as(&options, &["--example", "bare_window"]);
    let app = procs::built_as(&options, &["--bin", "campaign-safe"]);
    let runs = seconds("RUNS", 7) as usize;
    let (bare_data, app_data) = (
        tempfile::tempdir().expect("data folder"),
        tempfile::tempdir().expect("data folder"),
    );
    // Alternate, so both meet the same machine weather; one warm-up each, not counted.
    start_once(&bare, bare_data.path());
    start_once(&app, app_data.path());
    let (mut of_bare, mut of_app) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        of_bare.push(start_once(&bare, bare_data.path()));
        of_app.push(start_once(&app, app_data.path()));
    }
    let figures = |starts: &[Start]| {
        (
            median(starts.iter().map(|s| s.started_ms).collect()),
            median(starts.iter().map(|s| s.finished_ms).collect()),
            median(starts.iter().map(|s| s.content_loaded_ms).collect()),
            median(starts.iter().map(|s| s.pss_mib).collect()),
        )
    };
    let (bare_started, bare_finished, bare_loaded, bare_pss) = figures(&of_bare);
    let (app_started, app_finished, app_loaded, app_pss) = figures(&of_app);
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    println!("{profile} profile; medians of {runs} starts, from spawn");
    println!("                     page started   page finished   DOMContentLoaded   PSS, all processes   program");
    let row = |what: &str, figures: [f64; 4], binary: &Path| {
        let [started, finished, loaded, pss] = figures;
        println!(
            "{what:<20} {started:>9.0} ms    {finished:>9.0} ms    {loaded:>11.0} ms    {pss:>10.1} MiB     {:>6.1} MB",
            size(binary)
        );
    };
    row(
        "bare Tauri window",
        [bare_started, bare_finished, bare_loaded, bare_pss],
        &bare,
    );
    row(
        "Campaign Safe",
        [app_started, app_finished, app_loaded, app_pss],
        &app,
    );
    println!(
        "ratio                {:>9.2}×       {:>9.2}×       {:>11.2}×       {:>10.2}×         {:>6.2}×",
        app_started / bare_started,
        app_finished / bare_finished,
        app_loaded / bare_loaded,
        app_pss / bare_pss,
        size(&app) / size(&bare)
    );
    for process in ["app", "web", "network"] {
        let of = |starts: &[Start]| {
            median(
                starts
                    .iter()
                    .map(|s| s.pss_by_process.get(process).copied().unwrap_or(0.0))
                    .collect(),
            )
        };
        println!(
            "PSS of the {process:<8} process: bare {:>6.1} MiB, app {:>6.1} MiB",
            of(&of_bare),
            of(&of_app)
        );
    }
    println!("targets: page started <= 1.15x, PSS <= 1.15x, the app's DOMContentLoaded <= 60 ms");
}
