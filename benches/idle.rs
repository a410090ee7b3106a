//! What the app costs while nobody touches it: `cargo bench --bench idle`.
//!
//! The app (this profile's build) and a bare Tauri window (benches/bare_window, same tauri
//! version and profile, built here) each run for a minute under Xvfb with a private D-Bus
//! session bus, after settling. Counted per process over that minute: wake-ups (voluntary
//! and involuntary context switches of every thread) and CPU time. Then the app again with
//! 20 check-in sessions out, Today showing their countdowns.
//!
//! Targets, with no session active: the app's own process ≤ 30 wake-ups a minute and its web
//! process ≤ 10; with 20 sessions active, web process CPU ≤ 0.1 s a minute.
//! SETTLE and SECONDS (defaults 20 and 60) change the timings.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;

use campaign_safe_lib::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use campaign_safe_lib::storage::Database;

const APP: &str = env!("CARGO_BIN_EXE_campaign-safe");

fn seconds(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Builds the bare window with this benchmark's profile and returns its path.
fn bare_window() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--profile",
            "bench",
            "--example",
            "bare_window",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo build of the bare window");
    assert!(output.status.success(), "the bare window did not build");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
        .expect("the bare window's executable")
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().to_owned()
}

/// A display and a session bus of its own, ended when dropped.
struct Desktop {
    xvfb: Child,
    bus: Child,
    display: String,
    address: String,
}

impl Desktop {
    fn start() -> Self {
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (make test installs it)");
        let display = format!(":{}", first_line(&mut xvfb));
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let address = first_line(&mut bus);
        Self {
            xvfb,
            bus,
            display,
            address,
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in [&mut self.bus, &mut self.xvfb] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wake-ups and CPU ticks of one thread.
#[derive(Default, Clone, Copy)]
struct Counters {
    switches: u64,
    ticks: u64,
}

/// Every thread of a process, by thread id: threads come and go, so counts are compared
/// thread by thread.
fn counters(pid: u32) -> HashMap<String, Counters> {
    let mut threads = HashMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let mut total = Counters::default();
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(rest) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total.switches += rest.trim().parse::<u64>().unwrap_or(0);
            }
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // utime and stime are fields 14 and 15 of stat; 12 and 13 after the ")".
        total.ticks += fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        threads.insert(task.file_name().to_string_lossy().into_owned(), total);
    }
    threads
}

/// What happened between two samples: threads that began since count from zero.
fn since(before: &HashMap<String, Counters>, after: &HashMap<String, Counters>) -> Counters {
    let mut total = Counters::default();
    for (thread, now) in after {
        let then = before.get(thread).copied().unwrap_or_default();
        total.switches += now.switches.saturating_sub(then.switches);
        total.ticks += now.ticks.saturating_sub(then.ticks);
    }
    total
}

/// The process and its WebKit children, by name.
fn family(pid: u32) -> HashMap<String, u32> {
    let mut found = HashMap::from([("app".to_owned(), pid)]);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(pid) {
            let name = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
            if name.starts_with("WebKitWebProces") {
                found.insert("web".into(), child);
            } else if name.starts_with("WebKitNetworkP") {
                found.insert("network".into(), child);
            }
        }
    }
    found
}

struct Run {
    wakeups: HashMap<String, f64>,
    cpu_seconds: HashMap<String, f64>,
}

/// Runs `binary` with `data` as its data folder and counts a quiet `SECONDS` after `SETTLE`.
fn idle_run(binary: &Path, data: &Path) -> Run {
    let desktop = Desktop::start();
    let mut app = Command::new(binary)
        .env("DISPLAY", &desktop.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
        .env("CAMPAIGN_SAFE_DATA_DIR", data)
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("NO_AT_BRIDGE", "1")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    std::thread::sleep(Duration::from_secs(seconds("SETTLE", 20)));
    let processes = family(app.id());
    assert!(
        processes.contains_key("web"),
        "{} has no web process after settling",
        binary.display()
    );
    let before: HashMap<&String, HashMap<String, Counters>> =
        processes.iter().map(|(name, pid)| (name, counters(*pid))).collect();
    let span = seconds("SECONDS", 60);
    std::thread::sleep(Duration::from_secs(span));
    let per_minute = 60.0 / span as f64;
    let mut run = Run {
        wakeups: HashMap::new(),
        cpu_seconds: HashMap::new(),
    };
    for (name, pid) in &processes {
        let change = since(&before[name], &counters(*pid));
        run.wakeups
            .insert(name.clone(), change.switches as f64 * per_minute);
        run.cpu_seconds
            .insert(name.clone(), change.ticks as f64 / 100.0 * per_minute);
    }
    let _ = app.kill();
    let _ = app.wait();
    run
}

fn twenty_sessions(data: &Path) {
    let database = Database::open_in(data).unwrap();
    let now = Utc::now();
    let mut conn = database.conn();
    for i in 0..20 {
        let new = NewSession {
            kind: Kind::Canvass,
            mode: Mode::Watching,
            title: format!("Team {i}"),
            participants: vec![format!("Volunteer {i}")],
            place: String::new(),
            notes: String::new(),
            escalation: vec![EscalationContact {
                name: "Office".into(),
                phone: "101".into(),
                relationship: String::new(),
            }],
            ends_at: Some(now + chrono::Duration::hours(4)),
            interval_minutes: Some(60 + i),
            reminder_lead_minutes: 5,
            grace_minutes: 10,
        };
        checkins::start(&mut conn, &new, now, "bench").unwrap();
    }
}

fn main() {
    let bare = bare_window();
    let reference = idle_run(&bare, tempfile::tempdir().unwrap().path());
    let quiet = idle_run(Path::new(APP), tempfile::tempdir().unwrap().path());
    let busy_data = tempfile::tempdir().unwrap();
    twenty_sessions(busy_data.path());
    let busy = idle_run(Path::new(APP), busy_data.path());

    println!("per minute, after settling          app process          web process");
    let line = |what: &str, run: &Run| {
        println!(
            "{what:<34} {:>6.0} wake-ups {:>5.2} s  {:>6.0} wake-ups {:>5.2} s",
            run.wakeups["app"], run.cpu_seconds["app"], run.wakeups["web"], run.cpu_seconds["web"]
        );
    };
    line("bare Tauri window", &reference);
    line("Campaign Safe, no session", &quiet);
    line("Campaign Safe, 20 sessions out", &busy);
    println!(
        "targets: no session, app <= 30 and web <= 10 wake-ups a minute; 20 sessions, web CPU <= 0.1 s a minute"
    );
}
