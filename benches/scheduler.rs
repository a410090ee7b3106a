//! Check-in scheduler figures: `cargo bench --bench scheduler`.
//!
//! 1. Reminder delivery with real timers: sessions whose reminders fall due over ~20 s;
//!    how late each reached the notifier (p50, p99, max).
//! 2. Wake-ups while nothing is scheduled, over 10 s (target 0).
//! 3. Catching up 1,000 sessions after a simulated 3-hour suspend.

#[path = "support/stopwatch.rs"]
mod stopwatch;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use campaign_safe_lib::alarms::hub::{AlarmHub, Headless};
use campaign_safe_lib::checkins::runner::{Runner, SchedulerHandle};
use campaign_safe_lib::checkins::scheduler::evaluate;
use campaign_safe_lib::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use campaign_safe_lib::notify::Notifier;
use campaign_safe_lib::storage::Database;
use campaign_safe_lib::time::{Clock, SystemClock};
use stopwatch::Stopwatch;

fn runner(database: Arc<Database>, clock: Arc<dyn Clock>, notifier: Arc<dyn Notifier>) -> Runner {
    let handle = SchedulerHandle::default();
    let changes = campaign_safe_lib::changes::Changes::default();
    changes.listen(Arc::new(handle.clone()));
    AlarmHub::new(
        database.clone(),
        clock.clone(),
        notifier,
        Arc::new(Headless),
        Arc::new(checkins::NoSink),
        changes.clone(),
    );
    Runner {
        database,
        clock,
        sink: Arc::new(checkins::NoSink),
        changes,
        handle,
    }
}

/// Counts how often the scheduler reads the clock: once or twice per wake-up.
struct CountingClock(AtomicUsize);

impl Clock for CountingClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Utc::now()
    }
}

fn session(person: usize, ends_at: DateTime<Utc>) -> NewSession {
    NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: format!("Session {person}"),
        participants: vec![format!("Person {person}")],
        place: String::new(),
        notes: String::new(),
        escalation: vec![EscalationContact {
            name: "Office".into(),
            phone: "101".into(),
            relationship: String::new(),
        }],
        ends_at: Some(ends_at),
        interval_minutes: Some(5),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn reminder_latency() {
    const SESSIONS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let database = Arc::new(
        Database::open_in(
            dir.path(),
            &campaign_safe_lib::vault::DataKey::generate().unwrap(),
        )
        .unwrap(),
    );
    let base = Utc::now() + chrono::Duration::seconds(2);
    // A reminder comes 5 minutes before a due time 5 minutes after the start: at the start.
    let mut reminder_at = std::collections::HashMap::new();
    {
        let mut conn = database.conn();
        for i in 0..SESSIONS {
            // Start times (and so reminder times) spread over 20 s from now.
            let start =
                base + chrono::Duration::milliseconds((i as i64) * 20_000 / SESSIONS as i64);
            reminder_at.insert(format!("Check in: Session {i}"), start);
            checkins::start(
                &mut conn,
                &session(i, start + chrono::Duration::hours(2)),
                start,
                &checkins::Actor::here(),
                &checkins::NoSink,
            )
            .unwrap();
        }
    }
    let stopwatch = Arc::new(Stopwatch::default());
    runner(database, Arc::new(SystemClock), stopwatch.clone())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(25));

    let sent = stopwatch.0.lock().unwrap().clone();
    assert_eq!(sent.len(), SESSIONS, "every reminder was delivered once");
    let mut late: Vec<f64> = sent
        .iter()
        .map(|(summary, at)| {
            (*at - reminder_at[summary]).num_microseconds().unwrap() as f64 / 1000.0
        })
        .collect();
    late.sort_by(f64::total_cmp);
    println!(
        "reminder delivery, {SESSIONS} reminders over 20 s, real timers: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms late (target p99 < 1000 ms)",
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late.last().unwrap()
    );
}

fn idle_wakeups() {
    let dir = tempfile::tempdir().unwrap();
    let database = Arc::new(
        Database::open_in(
            dir.path(),
            &campaign_safe_lib::vault::DataKey::generate().unwrap(),
        )
        .unwrap(),
    );
    let clock = Arc::new(CountingClock(AtomicUsize::new(0)));
    runner(database, clock.clone(), Arc::new(Stopwatch::default()))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let after_start = clock.0.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(10));
    let reads = clock.0.load(Ordering::SeqCst) - after_start;
    println!("scheduler wake-ups with no session over 10 s: {reads} (target 0)");
}

fn catch_up() {
    const SESSIONS: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open_in(
        dir.path(),
        &campaign_safe_lib::vault::DataKey::generate().unwrap(),
    )
    .unwrap();
    let start = Utc::now();
    let mut conn = database.conn();
    for i in 0..SESSIONS {
        checkins::start(
            &mut conn,
            &session(i, start + chrono::Duration::hours(8)),
            start,
            &checkins::Actor::here(),
            &checkins::NoSink,
        )
        .unwrap();
    }
    let began = Instant::now();
    let alerts = evaluate(
        &mut conn,
        start + chrono::Duration::hours(3),
        &checkins::NoSink,
    )
    .unwrap();
    let took = began.elapsed();
    assert_eq!(alerts.len(), SESSIONS, "one consolidated alert per session");
    println!(
        "catch-up after a 3 h suspend: {SESSIONS} sessions, {} alerts in {:.1} ms",
        alerts.len(),
        took.as_secs_f64() * 1000.0
    );
}

fn main() {
    catch_up();
    idle_wakeups();
    reminder_latency();
}
