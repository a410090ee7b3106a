//! Alarms never wait behind long jobs: `cargo bench --bench alarms`.
//!
//! With an incident log of 100,000 (INCIDENTS to change it), reminders fall due with real
//! timers while "Check the record" runs over the whole log and an evidence pack of 10,000
//! incidents is exported, both in a loop. Measured, with the same figures measured beside
//! them with nothing else running:
//! - how late each reminder reached the notifier (p50, p99, max);
//! - how long a check-in takes, doing what the `checkins_check_in` command does (record it,
//!   bring the alarms up to date, read the session back).
//!
//! Target: p99 ≤ 50 ms for both, under load.

#[path = "support/log.rs"]
mod support_log;

#[path = "support/stopwatch.rs"]
mod stopwatch;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use campaign_safe_lib::alarms::hub::{AlarmHub, Headless};
use campaign_safe_lib::checkins::runner::{Runner, SchedulerHandle};
use campaign_safe_lib::checkins::{self, views, EscalationContact, Kind, Mode, NewSession};
use campaign_safe_lib::incidents::attachments::AttachmentStore;
use campaign_safe_lib::incidents::chain::verify_all;
use campaign_safe_lib::incidents::pack::{self, Selection};
use campaign_safe_lib::storage::Database;
use campaign_safe_lib::time::SystemClock;
use stopwatch::Stopwatch;

fn session(name: &str, start: DateTime<Utc>) -> NewSession {
    NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: name.into(),
        participants: vec![name.into()],
        place: String::new(),
        notes: String::new(),
        escalation: vec![EscalationContact {
            name: "Office".into(),
            phone: "101".into(),
            relationship: String::new(),
        }],
        ends_at: Some(start + chrono::Duration::hours(2)),
        interval_minutes: Some(5),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    }
}

struct Figures {
    p50: f64,
    p99: f64,
    max: f64,
}

fn figures(mut samples: Vec<f64>) -> Figures {
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    Figures {
        p50: at(0.5),
        p99: at(0.99),
        max: *samples.last().unwrap(),
    }
}

/// Reminders falling due over 15 s, and check-ins every 50 ms over the same time.
fn measure(database: &Arc<Database>, round: &str) -> (Figures, Figures) {
    const REMINDERS: usize = 60;
    let stopwatch = Arc::new(Stopwatch::default());
    let handle = SchedulerHandle::default();
    let changes = campaign_safe_lib::changes::Changes::default();
    changes.listen(Arc::new(handle.clone()));
    let _alarms = AlarmHub::new(
        database.clone(),
        Arc::new(SystemClock),
        stopwatch.clone(),
        Arc::new(Headless),
        Arc::new(checkins::NoSink),
        changes.clone(),
    );
    let base = Utc::now() + chrono::Duration::seconds(1);
    let mut reminder_at = std::collections::HashMap::new();
    {
        let mut conn = database.conn();
        for i in 0..REMINDERS {
            // A reminder comes 5 minutes before a due time 5 minutes after the start.
            let start =
                base + chrono::Duration::milliseconds((i as i64) * 15_000 / REMINDERS as i64);
            let name = format!("{round} {i}");
            checkins::start(
                &mut conn,
                &session(&name, start),
                start,
                &checkins::Actor::here(),
                &checkins::NoSink,
            )
            .unwrap();
            reminder_at.insert(format!("Check in: {name}"), start);
        }
    }
    let checked: i64 = checkins::start(
        &mut database.conn(),
        &session(&format!("{round} checking in"), Utc::now()),
        Utc::now(),
        &checkins::Actor::here(),
        &checkins::NoSink,
    )
    .unwrap();
    Runner {
        database: database.clone(),
        clock: Arc::new(SystemClock),
        sink: Arc::new(checkins::NoSink),
        changes: changes.clone(),
        handle: handle.clone(),
    }
    .spawn()
    .unwrap();

    let mut check_ins = Vec::new();
    let until = Instant::now() + Duration::from_secs(17);
    while Instant::now() < until {
        let began = Instant::now();
        checkins::check_in(
            &mut database.conn(),
            checked,
            Utc::now(),
            &checkins::Actor::here(),
            &checkins::NoSink,
        )
        .unwrap();
        changes.announce(campaign_safe_lib::changes::Changed::Sessions);
        views::detail(&database.conn(), checked, chrono::Utc::now()).unwrap();
        check_ins.push(began.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    let shown = stopwatch.0.lock().unwrap().clone();
    let late: Vec<f64> = shown
        .iter()
        .filter_map(|(summary, at)| {
            let due = reminder_at.get(summary)?;
            Some((*at - *due).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    assert_eq!(late.len(), REMINDERS, "every reminder was delivered once");
    // This round's sessions end, so the next round's scheduler sees only its own.
    let conn = database.conn();
    conn.execute(
        "UPDATE checkin_session SET ended_at = 0 WHERE ended_at IS NULL",
        [],
    )
    .unwrap();
    (figures(late), figures(check_ins))
}

fn main() {
    let count: usize = std::env::var("INCIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let database = Arc::new(
        Database::open_in(
            dir.path(),
            &campaign_safe_lib::vault::DataKey::generate().unwrap(),
        )
        .unwrap(),
    );
    let began = Instant::now();
    support_log::build(&database, count);
    println!(
        "built {count} incidents in {:.0} s",
        began.elapsed().as_secs_f64()
    );

    let quiet = measure(&database, "Quiet");

    // The long jobs, each on the connection of its own that the commands give it.
    let stop = Arc::new(AtomicBool::new(false));
    let (verifies, exports) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let files = AttachmentStore::new(dir.path(), database.key());
    let verifier = {
        let (database, stop, verifies, files) = (
            database.clone(),
            stop.clone(),
            verifies.clone(),
            files.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let conn = database.open_reader().unwrap();
                verify_all(&conn, &files).unwrap();
                verifies.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let exporter = {
        let (database, stop, exports, files) = (
            database.clone(),
            stop.clone(),
            exports.clone(),
            files.clone(),
        );
        let out = tempfile::tempdir().unwrap();
        std::thread::spawn(move || {
            // The 10,000 most recent incidents.
            let ids: Vec<String> = database
                .reader()
                .prepare("SELECT id FROM incident ORDER BY occurred_from DESC LIMIT 10000")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let selection = Selection {
                ids,
                ..Selection::default()
            };
            while !stop.load(Ordering::SeqCst) {
                let conn = database.open_reader().unwrap();
                pack::export(&conn, &files, &selection, out.path(), Utc::now()).unwrap();
                exports.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Let both jobs get going before measuring.
    std::thread::sleep(Duration::from_secs(2));
    let loaded = measure(&database, "Loaded");
    stop.store(true, Ordering::SeqCst);
    verifier.join().unwrap();
    exporter.join().unwrap();

    let row = |what: &str, quiet: &Figures, loaded: &Figures| {
        println!(
            "{what:<28} quiet p50 {:>6.2} ms p99 {:>6.2} ms | under load p50 {:>6.2} ms p99 {:>6.2} ms max {:>6.2} ms | p99 ratio {:.1}x",
            quiet.p50, quiet.p99, loaded.p50, loaded.p99, loaded.max,
            loaded.p99 / quiet.p99.max(0.001)
        );
    };
    println!(
        "long jobs during the loaded round: {} full verifies of {count} incidents, {} exports of 10,000",
        verifies.load(Ordering::SeqCst),
        exports.load(Ordering::SeqCst)
    );
    row("reminder lateness", &quiet.0, &loaded.0);
    row("check-in command", &quiet.1, &loaded.1);
    println!("target: p99 <= 50 ms under load for both");
}
