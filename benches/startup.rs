//! Start-up beside a plain Tauri app: `cargo bench --bench startup`.
//!
//! The app and the reference, benches/bare_tauri (a package and workspace of its own with
//! nothing of the app's package: the same tauri version, features and profile), both built
//! here (release unless PROFILE says otherwise, each in a target folder of its own), are
//! started in turn under Xvfb, RUNS times each (default 7), after one warm-up start each that
//! is not counted. Each program keeps one data folder across its starts, made by the warm-up,
//! as a user's would be (the reference's web view data lives in its own folder under the home
//! directory likewise). Timed from spawn: the window mapped (seen on the display by the
//! benchmark), and, as the programs report it on standard output
//! (`CAMPAIGN_SAFE_STARTUP_PROBE`), the page starting to load and the page finished (its
//! scripts ran and the load event fired); the page's own DOMContentLoaded and the app's first
//! screen drawn from the start of its navigation (an injected script,
//! `src-tauri/src/startup_probe.js`). Then, after SETTLE seconds (default 5), the
//! proportional memory (PSS) of the program and its WebKit processes. Medians, and the app's
//! figures as ratios to the reference's, measured in the same run because these machines are
//! noisy. Also the size of both programs.
//!
//! The PSS of each process is printed too, and SMAPS_DIR=folder keeps their memory maps.
//!
//! Targets (issue 25): window mapped, fully drawn and PSS ≤ 1.10×; page started ≤ 1.15×;
//! DOMContentLoaded ≤ 60 ms.

#[allow(dead_code)] // The idle counters in procs.rs are for benches/idle.rs.
#[path = "support/procs.rs"]
mod procs;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use procs::{family, pss_kib, seconds, Desktop};

/// When a program's window is mapped on an X display, seen by the benchmark itself (the
/// programs report nothing of it): a client of the display that hears every top-level
/// window mapped.
mod mapping {
    use std::ffi::CString;
    use std::sync::mpsc;
    use std::time::Instant;
    use x11_dl::xlib;

    /// Listens on `display` (from before the program starts) and sends the moment its first
    /// top-level window that is not a pop-up is mapped.
    pub fn watch(display: &str) -> mpsc::Receiver<Instant> {
        let (listening, ready) = mpsc::channel();
        let (mapped, receiver) = mpsc::channel();
        let name = CString::new(display).expect("a display name");
        std::thread::spawn(move || {
            let xlib = xlib::Xlib::open().expect("libX11");
            // SAFETY: one display connection, used only on this thread and closed at its end;
            // the event is read as the kind its type says.
            unsafe {
                let connection = (xlib.XOpenDisplay)(name.as_ptr());
                assert!(!connection.is_null(), "cannot open display {name:?}");
                let root = (xlib.XDefaultRootWindow)(connection);
                (xlib.XSelectInput)(connection, root, xlib::SubstructureNotifyMask);
                (xlib.XSync)(connection, xlib::False);
                let _ = listening.send(());
                let mut event: xlib::XEvent = std::mem::zeroed();
                loop {
                    (xlib.XNextEvent)(connection, &mut event);
                    if event.get_type() == xlib::MapNotify && event.map.override_redirect == 0 {
                        let _ = mapped.send(Instant::now());
                        break;
                    }
                }
                (xlib.XCloseDisplay)(connection);
            }
        });
        ready.recv().expect("the display is watched");
        receiver
    }
}

struct Start {
    /// Spawn to the program's window mapped on the display.
    mapped_ms: f64,
    page: PageTimes,
    pss_mib: f64,
    /// PSS of each process (app, web, network), to see where a difference lies.
    pss_by_process: std::collections::BTreeMap<String, f64>,
}

/// What the page reported, read from the probe lines: spawn to page started and to page
/// finished, then times from the start of navigation.
struct PageTimes {
    started_ms: f64,
    finished_ms: f64,
    content_loaded_ms: f64,
    /// The app's first screen drawn (the bare window has none).
    first_screen_ms: Option<f64>,
    /// When the app served each file of its page, on the page's clock (from the start of
    /// navigation).
    served: Vec<(String, f64)>,
    /// The page's steps and marks.
    steps: Vec<(String, f64)>,
}

/// Reads the probe lines until the page has finished loading and reported its
/// DOMContentLoaded (and, with `first_screen`, its first screen drawn): spawn to page started
/// and to page finished, and the page's own times from the start of its navigation.
fn wait_for_page(child: &mut Child, spawned: Instant, first_screen: bool) -> PageTimes {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut started, mut finished, mut loaded, mut drawn) = (None, None, None, None);
    let mut served = Vec::new();
    let mut time_origin = None;
    let mut steps = Vec::new();
    let mut seen = Vec::new();
    while let Some(line) = lines.next() {
        let line = line.expect("probe output");
        let at = spawned.elapsed().as_secs_f64() * 1000.0;
        let page_time = |prefix: &str| {
            line.trim()
                .strip_prefix(prefix)
                .map(|ms| ms.parse::<f64>().expect("a time in ms"))
        };
        match line.trim() {
            "startup-probe page-started" => started = started.or(Some(at)),
            "startup-probe page-finished" => finished = finished.or(Some(at)),
            other => {
                loaded = loaded.or(page_time("startup-probe dom-content-loaded "));
                if let Some(ms) = page_time("startup-probe first-screen ") {
                    drawn = drawn.or(Some(ms));
                    // In the waterfall too, beside the steps before it.
                    steps.push(("first-screen".to_owned(), ms));
                }
                time_origin = time_origin.or(page_time("startup-probe time-origin "));
                if let Some(rest) = other.strip_prefix("startup-probe step-") {
                    if let Some((step, ms)) = rest.split_once(' ') {
                        steps.push((step.to_owned(), ms.parse().expect("a time in ms")));
                    }
                }
                // The app says when it serves each file of its page (ms since the epoch).
                if let Some(file) = other.strip_prefix("startup-probe served ") {
                    if let Some((file, epoch_ms)) = file.rsplit_once(' ') {
                        served.push((
                            file.to_owned(),
                            epoch_ms.parse::<f64>().expect("a time in ms"),
                        ));
                    }
                }
            }
        }
        if loaded.is_some() && (drawn.is_some() || !first_screen) {
            // Read on, so the program's later lines never meet a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return PageTimes {
                started_ms: started.expect("page-started comes first"),
                finished_ms: finished.expect("page-finished comes first"),
                content_loaded_ms: loaded.unwrap_or_default(),
                first_screen_ms: drawn,
                served: served
                    .into_iter()
                    .map(|(file, epoch_ms)| (file, epoch_ms - time_origin.unwrap_or(f64::NAN)))
                    .collect(),
                steps,
            };
        }
        seen.push(line);
    }
    panic!(
        "the program ended before its page reported DOMContentLoaded{}; it printed: {seen:?}",
        if first_screen {
            " and its first screen"
        } else {
            ""
        }
    );
}

fn start_once(binary: &Path, data: &Path, first_screen: bool) -> Start {
    let desktop = Desktop::start();
    let mapped = mapping::watch(desktop.display());
    let spawned = Instant::now();
    let mut child = desktop.spawn(binary, data, &[("CAMPAIGN_SAFE_STARTUP_PROBE", "1")]);
    let page = wait_for_page(&mut child, spawned, first_screen);
    let mapped_ms = mapped
        .recv_timeout(Duration::from_secs(60))
        .map_or(f64::NAN, |at| {
            at.duration_since(spawned).as_secs_f64() * 1000.0
        });
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
        mapped_ms,
        page,
        pss_mib,
        pss_by_process,
    }
}

/// The median, or NaN for none (the bare window draws no first screen).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    // The release profile by default (LTO and size matter here), as `make package` builds;
    // PROFILE=bench for the quicker build the other benchmarks use.
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "release".into());
    // Target folders of their own, one per program. Beside `cargo bench`'s own build of the
    // library, each build overwrote the other's files (cargo#6313); and the reference, a
    // workspace of its own, builds tauri with other features than the dev-dependencies ask.
    let options = |folder| {
        [
            "--profile",
            profile.as_str(),
            "--features",
            "custom-protocol",
            "--target-dir",
            folder,
        ]
    };
    let bare = procs::bare_tauri_built(&profile);
    let app = procs::built_as(&options("target/startup"), &["--bin", "campaign-safe"]);
    // ALSO=path[:path…]: other builds of the app (copies kept from before a change), measured
    // in the same run, so a change is judged against the same machine weather.
    let also: Vec<PathBuf> = std::env::var_os("ALSO")
        .map(|paths| std::env::split_paths(&paths).collect())
        .unwrap_or_default();
    let mut programs = vec![
        ("bare Tauri window".to_owned(), bare, false),
        ("Campaign Safe".to_owned(), app, true),
    ];
    for other in also {
        // Waited for its first screen as the app is: a build from before the `first-screen`
        // mark was set (2026-11) cannot be compared this way, and is not waited for with
        // ALSO_NO_FIRST_SCREEN=1.
        let name = other.file_name().unwrap_or_default().to_string_lossy();
        let first_screen = std::env::var_os("ALSO_NO_FIRST_SCREEN").is_none();
        programs.push((format!("ALSO {name}"), other, first_screen));
    }
    let runs = seconds("RUNS", 7) as usize;
    let data: Vec<_> = programs
        .iter()
        .map(|_| tempfile::tempdir().expect("data folder"))
        .collect();
    // Alternate, so all meet the same machine weather; one warm-up each, not counted.
    for ((_, binary, app), data) in programs.iter().zip(&data) {
        start_once(binary, data.path(), *app);
    }
    let mut starts: Vec<Vec<Start>> = programs.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (((_, binary, app), data), of) in programs.iter().zip(&data).zip(&mut starts) {
            of.push(start_once(binary, data.path(), *app));
        }
    }
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let figures = |of: &[Start], binary: &Path| {
        [
            median(of.iter().map(|s| s.mapped_ms).collect()),
            median(of.iter().map(|s| s.page.started_ms).collect()),
            median(of.iter().map(|s| s.page.finished_ms).collect()),
            median(of.iter().map(|s| s.page.content_loaded_ms).collect()),
            // Spawn to the page fully drawn: the app's first screen (Today), the bare page's
            // DOMContentLoaded (it has nothing more to draw), from the start of navigation.
            median(
                of.iter()
                    .map(|s| {
                        s.page.started_ms
                            + s.page.first_screen_ms.unwrap_or(s.page.content_loaded_ms)
                    })
                    .collect(),
            ),
            median(of.iter().map(|s| s.pss_mib).collect()),
            size(binary),
        ]
    };
    let rows: Vec<[f64; 7]> = programs
        .iter()
        .zip(&starts)
        .map(|((_, binary, _), of)| figures(of, binary))
        .collect();
    println!("{profile} profile; medians of {runs} starts, from spawn (page times from the start of navigation)");
    println!("                     window mapped   page started   page finished   DOMContentLoaded   drawn, from spawn   PSS, all processes   program");
    let cell = |value: f64, unit: &str, width: usize| {
        let text = match unit {
            _ if value.is_nan() => "—".to_owned(),
            "×" => format!("{value:.2}×"),
            _ => format!("{value:.0} {unit}"),
        };
        format!("{text:>width$}")
    };
    let print = |what: &str,
                 [mapped, started, finished, loaded, drawn, pss, size]: [f64; 7],
                 ratio: bool| {
        let (ms, mib, mb) = if ratio {
            ("×", "×", "×")
        } else {
            ("ms", "MiB", "MB")
        };
        let pss = if ratio {
            format!("{pss:.3}×")
        } else {
            format!("{pss:.1} {mib}")
        };
        println!(
            "{what:<20} {}    {}    {}    {}    {}    {pss:>15}     {}",
            cell(mapped, ms, 12),
            cell(started, ms, 12),
            cell(finished, ms, 12),
            cell(loaded, ms, 15),
            cell(drawn, ms, 16),
            if ratio {
                format!("{size:>7.2}×")
            } else {
                format!("{size:>5.1} {mb}")
            },
        );
    };
    for ((what, _, _), row) in programs.iter().zip(&rows) {
        print(what, *row, false);
    }
    let ratio = |of: &[f64; 7]| {
        let mut r = [0.0; 7];
        for (i, value) in r.iter_mut().enumerate() {
            *value = of[i] / rows[0][i];
        }
        r
    };
    print("ratio to bare", ratio(&rows[1]), true);
    for process in ["app", "web", "network"] {
        let of = |starts: &[Start]| {
            median(
                starts
                    .iter()
                    .map(|s| s.pss_by_process.get(process).copied().unwrap_or(0.0))
                    .collect(),
            )
        };
        let each: Vec<String> = programs
            .iter()
            .zip(&starts)
            .map(|((what, _, _), of_one)| format!("{what} {:>6.1} MiB", of(of_one)))
            .collect();
        println!("PSS of the {process:<8} process: {}", each.join(", "));
    }
    // The page's steps and when the app served each file of its page (medians): the waterfall.
    let medians = |lists: Vec<&Vec<(String, f64)>>| {
        let mut each: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
        for (name, ms) in lists.into_iter().flatten() {
            each.entry(name).or_default().push(*ms);
        }
        let mut at: Vec<(f64, &str)> = each
            .into_iter()
            .map(|(name, ms)| (median(ms), name))
            .collect();
        at.sort_by(|a, b| a.0.total_cmp(&b.0));
        let named: Vec<String> = at
            .iter()
            .map(|(ms, name)| format!("{name} {ms:.0}"))
            .collect();
        named.join(", ")
    };
    for ((what, _, _), of) in programs.iter().zip(&starts) {
        // Each start's figure, in the order run: a median can hide two kinds of start.
        let each: Vec<String> = of
            .iter()
            .map(|s| {
                let drawn = s.page.first_screen_ms.unwrap_or(s.page.content_loaded_ms);
                format!("{:.0}+{drawn:.0}", s.page.started_ms)
            })
            .collect();
        println!(
            "{what}, page started + drawn from navigation, each start (ms): {}",
            each.join(" ")
        );
        let steps = medians(of.iter().map(|s| &s.page.steps).collect());
        println!("{what}, page steps (ms from navigation): {steps}");
        let files = medians(of.iter().map(|s| &s.page.served).collect());
        if !files.is_empty() {
            println!("{what}, files served (ms from navigation): {files}");
        }
    }
    println!("targets: window mapped, drawn and PSS <= 1.10x; page started <= 1.15x; the app's DOMContentLoaded <= 60 ms");
}
