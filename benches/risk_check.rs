//! The plan's page at 10,000 incidents: `plans::detail`, which runs the risk check (earlier
//! incidents in the plan's streets and postcodes, do-not-knock doors, sunset), beside one
//! LIKE scan of every incident's place on a raw rusqlite connection in the same run (the
//! floor for any risk check), so a noisy machine shows in both. Target: p95 ≤ 100 ms for the plan's page.
//!
//! Run with `cargo bench --bench risk_check` (set INCIDENTS to change the count).

use std::time::{Duration as Elapsed, Instant};

#[path = "support/log.rs"]
mod support_log;

use campaign_safe_lib::plans::{self, PlanInput};
use campaign_safe_lib::storage::Database;
use chrono::{NaiveDate, TimeZone, Utc};
use rusqlite::Connection;

const RUNS: usize = 100;

fn p95(mut work: impl FnMut()) -> (f64, f64) {
    let mut samples: Vec<Elapsed> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    samples.sort();
    let ms = |d: Elapsed| d.as_secs_f64() * 1000.0;
    (ms(samples[RUNS / 2]), ms(samples[RUNS * 95 / 100]))
}

/// A plan whose streets the log mostly does not name: the risk check has to look through
/// every incident to find none, the slowest case.
fn plan(streets: &[&str], postcodes: &[&str]) -> PlanInput {
    PlanInput {
        title: "Ward 3, Saturday".into(),
        ward: "Ward 3".into(),
        streets: streets.iter().map(|s| s.to_string()).collect(),
        postcodes: postcodes.iter().map(|s| s.to_string()).collect(),
        town: "manchester".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 28),
        start_time: "10:30".into(),
        end_time: "13:00".into(),
        pairs: vec!["Sam and Alex".into(), "Priya, Jo & Lee".into()],
        escalation: vec!["Chris Office, 07700 900123".into()],
        ..PlanInput::default()
    }
}

fn main() {
    let count: usize = std::env::var("INCIDENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let key = campaign_safe_lib::vault::DataKey::generate().expect("key");
    let db = Database::open_in(dir.path(), &key).expect("open");
    support_log::build(&db, count);
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 18, 0, 0).unwrap();

    let raw_conn = Connection::open(db.path()).expect("raw connection");
    raw_conn
        .pragma_update(None, "key", key.sqlcipher_key().as_str())
        .expect("key");
    // The floor for any risk check: one LIKE over every incident's place.
    let one_scan = || {
        raw_conn
            .prepare_cached("SELECT count(*) FROM incident WHERE location LIKE '%Acacia Avenue%'")
            .expect("prepare")
            .query_row([], |row| row.get::<_, i64>(0))
            .expect("scan")
    };
    one_scan();
    let (raw_p50, raw_p95) = p95(|| {
        one_scan();
    });

    let cases = [
        (
            "streets named by no incident",
            plan(
                &["Acacia Avenue", "Birch Close", "Cedar Way"],
                &["ZZ9 9", "AB1 2"],
            ),
        ),
        (
            "one street named by 1 in 7",
            plan(&["Elm Street", "Birch Close"], &["AB1"]),
        ),
        (
            "five streets, two postcodes",
            plan(
                &[
                    "Elm Street",
                    "Mill Road",
                    "Oak Avenue",
                    "Birch Close",
                    "Cedar Way",
                ],
                &["AB1 2", "M1"],
            ),
        ),
    ];
    println!("{count} incidents; one LIKE scan of every place on raw rusqlite: p50 {raw_p50:.2} ms, p95 {raw_p95:.2} ms\n");
    println!(
        "{:<32} {:>10} {:>10} {:>14}",
        "plan's page (risk check)", "p50", "p95", "p95 / scan"
    );
    let mut worst: f64 = 0.0;
    for (name, input) in cases {
        let id = plans::create(&db.conn(), &input, now).expect("plan");
        plans::detail(&db.conn(), id, now).expect("warm");
        let (p50, p95) = p95(|| {
            plans::detail(&db.conn(), id, now).expect("detail");
        });
        worst = worst.max(p95);
        println!(
            "{name:<32} {p50:>8.2}ms {p95:>8.2}ms {:>13.1}×",
            p95 / raw_p95
        );
    }
    println!(
        "\nworst p95: {worst:.2} ms (target ≤ 100 ms) — {}",
        if worst <= 100.0 { "met" } else { "NOT MET" }
    );
}
