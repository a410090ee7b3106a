//! Running a desktop program under Xvfb with a private session bus, and counting what its
//! processes do while nobody touches it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Builds a target of this package with the benchmark profile and returns its executable.
/// (Asking cargo here, rather than through `CARGO_BIN_EXE_*`, keeps the library from being
/// built twice under one file name for the benchmark: cargo#6313.)
pub fn built(target: &[&str]) -> PathBuf {
    built_as(&["--profile", "bench"], target)
}

/// As [`built`], with other cargo options (another profile, features).
pub fn built_as(options: &[&str], target: &[&str]) -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["build", "--message-format=json"])
        .args(options)
        .args(target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo build");
    assert!(output.status.success(), "{target:?} did not build");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
        .expect("an executable")
}

/// Builds the reference the app is measured against: benches/bare_tauri, a plain Tauri app
/// that is a package and workspace of its own (the same tauri version, features and
/// profiles), in a target folder of its own. `profile` as for the app.
pub fn bare_tauri_built(profile: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bare_tauri/Cargo.toml");
    let target_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/startup-bare");
    built_as(
        &[
            "--manifest-path",
            manifest.to_str().expect("a UTF-8 path"),
            "--locked",
            "--profile",
            profile,
            "--features",
            "custom-protocol",
            "--target-dir",
            target_dir.to_str().expect("a UTF-8 path"),
        ],
        &["--bin", "bare-tauri"],
    )
}

pub fn seconds(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().to_owned()
}

/// A display and a session bus of its own, ended when dropped.
/// The tests' own Secret Service, so the app keeps its record key as on a desktop.
#[allow(dead_code)]
#[path = "../../tests/support/secrets.rs"]
pub mod secrets;

pub struct Desktop {
    xvfb: Child,
    bus: Child,
    _keyring: secrets::SecretServiceDaemon,
    _bus_dir: tempfile::TempDir,
    display: String,
    address: String,
}

impl Desktop {
    pub fn start() -> Self {
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (make test installs it)");
        let display = format!(":{}", first_line(&mut xvfb));
        let bus_dir = tempfile::tempdir().expect("bus folder");
        let mut bus = secrets::quiet_session_bus(bus_dir.path())
            .spawn()
            .expect("dbus-daemon");
        let address = first_line(&mut bus);
        let keyring = secrets::SecretServiceDaemon::start(&address);
        Self {
            xvfb,
            bus,
            _keyring: keyring,
            _bus_dir: bus_dir,
            display,
            address,
        }
    }

    /// A record made before the app starts, its key in this desktop's keyring as the app
    /// would have put it there.
    #[allow(dead_code)]
    pub fn new_record(&self, data: &Path) -> campaign_safe_lib::storage::Database {
        use campaign_safe_lib::vault::{at_start, AtStart};
        match at_start(
            data,
            &secrets::BusKeyring::on(&self.address),
            campaign_safe_lib::storage::holds_encrypted_record(data),
        )
        .expect("a record key")
        {
            AtStart::Ready(key) => {
                campaign_safe_lib::storage::Database::open_in(data, &key).expect("database")
            }
            other => panic!("the keyring did not keep a key: {other:?}"),
        }
    }
}

impl Desktop {
    /// The X display, as `DISPLAY` names it.
    #[allow(dead_code)] // benches/startup.rs watches it; benches/idle.rs does not.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Starts `binary` on this display and bus with `data` as its data folder; its
    /// standard output is piped for start-up probes.
    pub fn spawn(&self, binary: &Path, data: &Path, extra_env: &[(&str, &str)]) -> Child {
        Command::new(binary)
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("CAMPAIGN_SAFE_DATA_DIR", data)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("NO_AT_BRIDGE", "1")
            .env_remove("WAYLAND_DISPLAY")
            .envs(extra_env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start")
    }
}

/// Proportional set size of a process in KiB (shared pages split between their users), so
/// several processes' figures add up honestly.
pub fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
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
        let numbers = stat_numbers(&task.path().join("stat"));
        total.ticks += numbers.get(11).unwrap_or(&0) + numbers.get(12).unwrap_or(&0);
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

/// The numbers of a process's or thread's `stat` file after the command's name (0 for the
/// state and any field missing): index 1 is the parent, 11 and 12 the CPU ticks used (fields
/// 14 and 15 of proc(5)), 13 and 14 those of ended children it waited for.
pub fn stat_numbers(stat_file: &Path) -> Vec<u64> {
    let stat = std::fs::read_to_string(stat_file).unwrap_or_default();
    stat.rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|v| v.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default()
}

/// `/proc/<pid>/stat`.
pub fn stat_file(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/stat"))
}

/// The running children of a process.
pub fn children(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| stat_numbers(&stat_file(child)).get(1) == Some(&u64::from(parent)))
        .collect()
}

/// The process and its WebKit children, by name.
pub fn family(pid: u32) -> HashMap<String, u32> {
    let mut found = HashMap::from([("app".to_owned(), pid)]);
    for child in children(pid) {
        let name = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
        if name.starts_with("WebKitWebProces") {
            found.insert("web".into(), child);
        } else if name.starts_with("WebKitNetworkP") {
            found.insert("network".into(), child);
        }
    }
    found
}

pub struct Run {
    pub wakeups: HashMap<String, f64>,
    pub cpu_seconds: HashMap<String, f64>,
}

/// Runs `binary` with `data` as its data folder and counts a quiet `SECONDS` after `SETTLE`.
pub fn idle_run(binary: &Path, data: &Path) -> Run {
    idle_run_on(&Desktop::start(), binary, data)
}

/// As [`idle_run`], on a desktop a record was already made on.
pub fn idle_run_on(desktop: &Desktop, binary: &Path, data: &Path) -> Run {
    let mut app = desktop.spawn(binary, data, &[]);
    std::thread::sleep(Duration::from_secs(seconds("SETTLE", 20)));
    let processes = family(app.id());
    assert!(
        processes.contains_key("web"),
        "{} has no web process after settling",
        binary.display()
    );
    let before: HashMap<&String, HashMap<String, Counters>> = processes
        .iter()
        .map(|(name, pid)| (name, counters(*pid)))
        .collect();
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
