//! The team relay through a real Synapse on loopback: `cargo bench --bench relay`.
//!
//! 1. A check-in on one device reaching the two others (p50, p99, max): target p50 ≤ 200 ms,
//!    p99 ≤ 1.5 s.
//! 2. From the end of a grace period to the alarm on all three devices: target ≤ 5 s.
//! 3. Both again with 50 members in the room (47 more on plain clients), and how many
//!    "missed" posts each missed due time got (target: exactly 1).
//! 4. A burst of 1,000 events from a member: until every device has read them all (target
//!    ≤ 10 s after the last is sent), and a check-in sent right after it (target ≤ 1 s).
//! 5. The app signed in to a team, idle for a minute: wake-ups of its processes while the
//!    sync loop runs, beside the app with no team.
//!
//! Needs Synapse (`make test` installs it). ROUNDS changes the number of check-ins.

#[allow(dead_code)]
#[path = "support/procs.rs"]
mod procs;
#[allow(dead_code)]
#[path = "../tests/support/synapse.rs"]
mod synapse;
#[allow(dead_code)]
#[path = "../tests/support/team_device.rs"]
mod team_device;
#[allow(dead_code)]
#[path = "../tests/support/volunteer.rs"]
mod volunteer;

use std::time::{Duration, Instant};

use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::relay::matrix::TeamService;
use synapse::Synapse;
use team_device::{wait_until, Device};
use volunteer::volunteer;

const TITLE: &str = "Ward 3";

fn figures(mut samples: Vec<f64>) -> String {
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    format!(
        "p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  ({} samples)",
        at(0.5),
        at(0.99),
        samples.last().unwrap(),
        samples.len()
    )
}

/// A, whose session it is, checks in `rounds` times; how long until B and C both have it.
async fn check_in_latency(devices: &[&Device; 3], rounds: usize) -> Vec<f64> {
    let [a, b, c] = *devices;
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let began = Instant::now();
        a.check_in(TITLE);
        let due = a.next_due(TITLE);
        while b.next_due(TITLE) != due || c.next_due(TITLE) != due {
            assert!(
                began.elapsed() < Duration::from_secs(20),
                "a check-in did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(began.elapsed().as_secs_f64() * 1000.0);
        // Apart, as check-ins are: each sync then starts fresh.
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    samples
}

/// Moves every clock past the next due time; how long until all three show the alarm.
async fn grace_to_alarm(devices: &[&Device; 3], rounds: usize) -> Vec<f64> {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        devices[0].check_in(TITLE);
        let due = devices[0].next_due(TITLE);
        for device in devices {
            wait_until(
                "the check-in reaches everyone",
                Duration::from_secs(10),
                || async { device.next_due(TITLE) == due && device.alarm_kinds().is_empty() },
            )
            .await;
        }
        let began = Instant::now();
        for device in devices {
            device.advance_minutes(31);
        }
        while !devices
            .iter()
            .all(|d| d.alarm_kinds() == [AlarmKind::Missed])
        {
            assert!(
                began.elapsed() < Duration::from_secs(20),
                "the alarm did not go off everywhere"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(began.elapsed().as_secs_f64() * 1000.0);
        devices[1].acknowledge(TITLE);
    }
    samples
}

/// The app, signed in to a team on `server`, idle for a minute under Xvfb.
async fn idle_signed_in(server: &Synapse, room: &str) -> (procs::Run, procs::Run) {
    let app = tokio::task::spawn_blocking(|| procs::built(&["--bin", "campaign-safe"]))
        .await
        .unwrap();
    let quiet_dir = tempfile::tempdir().unwrap();
    let quiet = tokio::task::spawn_blocking({
        let dir = quiet_dir.path().to_owned();
        let app = app.clone();
        move || procs::idle_run(&app, &dir)
    });
    let quiet = quiet.await.unwrap();
    // Sign in with the app's own code in this folder, then let the app itself restore it.
    let dir = tempfile::tempdir().unwrap();
    let desktop = tokio::task::spawn_blocking(procs::Desktop::start)
        .await
        .unwrap();
    {
        let database = std::sync::Arc::new(desktop.new_record(dir.path()));
        let service = TeamService::new(
            database,
            dir.path().to_owned(),
            std::sync::Arc::new(campaign_safe_lib::time::SystemClock),
            tokio::runtime::Handle::current(),
            campaign_safe_lib::changes::Changes::default(),
        );
        service
            .sign_in(
                &server.url(),
                "idle",
                "idle-password",
                Some(&server.token),
                None,
            )
            .await
            .unwrap();
        service.join_team(room, "Ward 3").await.ok();
        service.stop().await;
    }
    let path = dir.path().to_owned();
    let team = tokio::task::spawn_blocking(move || procs::idle_run_on(&desktop, &app, &path))
        .await
        .unwrap();
    (quiet, team)
}

/// For each due time the room was told was missed, how many posts said so.
async fn missed_posts_per_due_time(client: &matrix_sdk::Client, room: &str) -> Vec<usize> {
    let mut per_due: std::collections::BTreeMap<i64, usize> = Default::default();
    for post in volunteer::posts(client, room).await {
        let field = &post["uk.campaignsafe.checkin"];
        if field["event"] == "missed" {
            *per_due
                .entry(field["dueAt"].as_i64().unwrap_or(0))
                .or_default() += 1;
        }
    }
    per_due.into_values().collect()
}

/// A member sends 1,000 events as fast as the server takes them; then A checks in. Returns
/// the milliseconds from the last send until B and C had read them all, and from the check-in
/// until both had it.
async fn burst(devices: &[&Device; 3], member: &matrix_sdk::Client, room: &str) -> (f64, f64) {
    let [a, b, c] = *devices;
    let sender = member.user_id().unwrap().to_string();
    let before = b.events_seen_from(&sender);
    volunteer::send_many(member, room, 1_000).await;
    let sent = Instant::now();
    wait_until(
        "every device reads the burst",
        Duration::from_secs(120),
        || async {
            [b, c]
                .iter()
                .all(|d| d.events_seen_from(&sender) >= before + 1_000)
        },
    )
    .await;
    let read_all = sent.elapsed().as_secs_f64() * 1000.0;
    let began = Instant::now();
    a.check_in(TITLE);
    let due = a.next_due(TITLE);
    wait_until(
        "the check-in after the burst",
        Duration::from_secs(60),
        || async { b.next_due(TITLE) == due && c.next_due(TITLE) == due },
    )
    .await;
    (read_all, began.elapsed().as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let server = Synapse::start().await;
    let a = Device::new("asha", &server).await;
    let b = Device::new("office", &server).await;
    let c = Device::new("cat", &server).await;
    let team = a.team.create_team("Ward 3 team").await.unwrap();
    for device in [&b, &c] {
        a.team.invite(&team.room_id, &device.user_id).await.unwrap();
        wait_until("invited", Duration::from_secs(20), || async {
            device
                .team
                .status()
                .await
                .map(|s| !s.invitations.is_empty())
                .unwrap_or(false)
        })
        .await;
        device.team.join_team(&team.link, "Ward 3").await.unwrap();
    }
    let session = a.start(TITLE, &["Priya"], "", "", 5);
    a.share(session, &team.room_id, &[]);
    for device in [&b, &c] {
        wait_until("shared", Duration::from_secs(10), || async {
            device.session(TITLE).is_some()
        })
        .await;
    }
    let devices = [&a, &b, &c];

    println!(
        "check-in from one device to the two others, 3 members: {}",
        figures(check_in_latency(&devices, rounds).await)
    );
    println!(
        "end of grace to the alarm on all three devices, 3 members: {}",
        figures(grace_to_alarm(&devices, 5).await)
    );

    let mut others = Vec::new();
    for i in 0..47 {
        let member = volunteer(&format!("member{i}"), &server).await;
        a.team
            .invite(&team.room_id, member.user_id().unwrap().as_ref())
            .await
            .unwrap();
        volunteer::join_as_volunteer(&member, &team.room_id).await;
        others.push(member);
    }
    wait_until("50 members joined", Duration::from_secs(60), || async {
        a.team
            .members(&team.room_id)
            .await
            .map(|m| m.len() >= 50)
            .unwrap_or(false)
    })
    .await;
    println!(
        "check-in from one device to the two others, 50 members: {}",
        figures(check_in_latency(&devices, rounds / 2).await)
    );
    println!(
        "end of grace to the alarm on all three devices, 50 members: {}",
        figures(grace_to_alarm(&devices, 5).await)
    );
    println!("targets: check-in p50 <= 200 ms and p99 <= 1.5 s; alarm on all three <= 5 s");
    println!(
        "missed posts per missed due time: {:?} (target: every one 1)",
        missed_posts_per_due_time(&others[0], &team.room_id).await
    );
    let (read_all, check_in_after) = burst(&devices, &others[0], &team.room_id).await;
    println!(
        "burst of 1,000 events: read on every device {:.0} ms after the last was sent (target <= 10 s); a check-in sent after it reached the others in {:.0} ms (target <= 1 s)",
        read_all, check_in_after
    );

    let (quiet, signed_in) = idle_signed_in(&server, &team.link).await;
    let line = |what: &str, run: &procs::Run| {
        println!(
            "{what:<40} app {:>5.0} wake-ups {:>5.2} s CPU a minute; web {:>4.0} wake-ups",
            run.wakeups["app"], run.cpu_seconds["app"], run.wakeups["web"]
        );
    };
    line("idle, no team", &quiet);
    line("idle, signed in, sync loop running", &signed_in);
}
