//! What the app costs while nobody touches it: `cargo bench --bench idle`.
//!
//! The app (this profile's build) and a plain Tauri app (benches/bare_tauri, a package of its
//! own with the same tauri version, features and profile, built here) each run for a minute under Xvfb with a private D-Bus
//! session bus, after settling. Counted per process over that minute: wake-ups (voluntary
//! and involuntary context switches of every thread) and CPU time. Then the app again with
//! 20 check-in sessions out, Today showing their countdowns.
//!
//! Targets, with no session active: the app's own process ≤ 30 wake-ups a minute and its web
//! process ≤ 10; with 20 sessions active, web process CPU ≤ 0.1 s a minute.
//! SETTLE and SECONDS (defaults 20 and 60) change the timings.

#[allow(dead_code)] // pss_kib is for benches/startup.rs.
#[path = "support/procs.rs"]
mod procs;

use std::path::Path;

use chrono::Utc;

use campaign_safe_lib::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use procs::{idle_run, Run};

fn twenty_sessions(desktop: &procs::Desktop, data: &Path) {
    let database = desktop.new_record(data);
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
        checkins::start(
            &mut conn,
            &new,
            now,
            &campaign_safe_lib::checkins::Actor::here(),
            &campaign_safe_lib::checkins::NoSink,
        )
        .unwrap();
    }
}

fn main() {
    let bare = procs::bare_tauri_built("bench");
    let app = procs::built(&["--bin", "campaign-safe"]);
    let reference = idle_run(&bare, tempfile::tempdir().unwrap().path());
    let quiet = idle_run(&app, tempfile::tempdir().unwrap().path());
    let busy_data = tempfile::tempdir().unwrap();
    let desktop = procs::Desktop::start();
    twenty_sessions(&desktop, busy_data.path());
    let busy = procs::idle_run_on(&desktop, &app, busy_data.path());

    println!("per minute, after settling          app process          web process");
    let line = |what: &str, run: &Run| {
        println!(
            "{what:<34} {:>6.0} wake-ups {:>5.2} s  {:>6.0} wake-ups {:>5.2} s",
            run.wakeups["app"], run.cpu_seconds["app"], run.wakeups["web"], run.cpu_seconds["web"]
        );
    };
    line("bare Tauri app", &reference);
    line("Campaign Safe, no session", &quiet);
    line("Campaign Safe, 20 sessions out", &busy);
    println!(
        "targets: no session, app <= 30 and web <= 10 wake-ups a minute; 20 sessions, web CPU <= 0.1 s a minute"
    );
}
