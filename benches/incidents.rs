//! Incident log at 100,000 incidents: list and search latency (p50, p95, max) through the
//! app's `find::list`, beside the very same SQL run on a raw rusqlite connection, so the
//! ratio shows what the app's layer costs. Target: p95 ≤ 5 ms for list and search.
//!
//! Run with `cargo bench --bench incidents` (set INCIDENTS to change the count).

use std::time::{Duration as Elapsed, Instant};

#[path = "support/log.rs"]
mod support_log;

use campaign_safe_lib::incidents::find::{self, ListQuery};
use campaign_safe_lib::incidents::model::Flag;
use campaign_safe_lib::storage::Database;
use chrono::{Duration, TimeZone, Utc};
use rusqlite::{params_from_iter, Connection};
use support_log::{build, CATEGORIES, WORDS};

/// Builds the query for run number `i`, so repeated runs vary their words.
type QueryFor = Box<dyn Fn(usize) -> ListQuery>;

struct Figures {
    p50: f64,
    p95: f64,
    max: f64,
}

fn measure(runs: usize, mut work: impl FnMut(usize)) -> Figures {
    let mut samples: Vec<Elapsed> = (0..runs)
        .map(|i| {
            let start = Instant::now();
            work(i);
            start.elapsed()
        })
        .collect();
    samples.sort();
    let ms = |d: Elapsed| d.as_secs_f64() * 1000.0;
    Figures {
        p50: ms(samples[runs / 2]),
        p95: ms(samples[runs * 95 / 100]),
        max: ms(samples[runs - 1]),
    }
}

/// The same statement the app runs, read with nothing but rusqlite.
fn raw(conn: &Connection, query: &ListQuery) -> usize {
    let fts = find::choose_fts(conn, &query.text).expect("fts");
    let (sql, values) = find::list_sql(query, fts).expect("sql");
    let mut stmt = conn.prepare_cached(&sql).expect("prepare");
    let rows = stmt
        .query_map(params_from_iter(values), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .expect("query");
    rows.count()
}

fn main() {
    let count: usize = std::env::var("INCIDENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let key = campaign_safe_lib::vault::DataKey::generate().expect("key");
    let db = Database::open_in(dir.path(), &key).expect("open");
    let started = Instant::now();
    let person = build(&db, count);
    println!(
        "built {count} incidents through incidents::record in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The reference is keyed too: both pay SQLCipher's page decryption.
    let raw_conn = Connection::open(db.path()).expect("raw connection");
    raw_conn
        .pragma_update(None, "key", key.sqlcipher_key().as_str())
        .expect("key");

    let now = Utc.with_ymd_and_hms(2026, 11, 25, 18, 0, 0).unwrap();
    let cases: Vec<(&str, QueryFor)> = vec![
        (
            "list, newest first, first page",
            Box::new(|_| ListQuery::default()),
        ),
        (
            "list, page 5 (offset 200)",
            Box::new(|_| ListQuery {
                offset: 200,
                ..Default::default()
            }),
        ),
        (
            "search a common word (~45% match)",
            Box::new(|i| ListQuery {
                text: WORDS[i % WORDS.len()].into(),
                ..Default::default()
            }),
        ),
        (
            "search a rare name, partly typed",
            Box::new(|_| ListQuery {
                text: "featherst".into(),
                ..Default::default()
            }),
        ),
        (
            "search a common word, 3 letters typed",
            Box::new(|i| ListQuery {
                text: WORDS[i % WORDS.len()].chars().take(3).collect(),
                ..Default::default()
            }),
        ),
        (
            "search a common word, 5 letters typed",
            Box::new(|i| ListQuery {
                text: [
                    "leafl", "shout", "poste", "volun", "doors", "counc", "messa", "garde",
                    "windo", "stree",
                ][i % 10]
                    .into(),
                ..Default::default()
            }),
        ),
        (
            // Past the longest prefix index: the whole-word search finds nothing yet, so
            // this is the slow path that remains.
            "search a common word, 7 letters typed",
            Box::new(|i| ListQuery {
                text: [
                    "leaflet", "volunte", "doorste", "counci", "message", "gardene",
                ][i % 6]
                    .into(),
                ..Default::default()
            }),
        ),
        (
            "search two words + street",
            Box::new(|i| ListQuery {
                text: format!("{} {} road", WORDS[i % 20], WORDS[(i + 7) % 20]),
                ..Default::default()
            }),
        ),
        (
            "search a reference number",
            Box::new(|i| ListQuery {
                text: format!("CAD {}", (i * 97) % 100_000),
                ..Default::default()
            }),
        ),
        (
            "filter category + last 30 days",
            Box::new(move |i| ListQuery {
                category: Some(CATEGORIES[i % CATEGORIES.len()].into()),
                from: Some(now - Duration::days(30)),
                ..Default::default()
            }),
        ),
        (
            "filter linked person",
            Box::new(move |_| ListQuery {
                person_id: Some(person.clone()),
                ..Default::default()
            }),
        ),
        (
            "filter warning sign + not reported",
            Box::new(|_| ListQuery {
                flags: vec![Flag::Repeat],
                reported: Some(false),
                ..Default::default()
            }),
        ),
    ];
    println!(
        "\n{:<38} {:>9} {:>9} {:>9} | {:>9} {:>9} | {:>6}",
        "query (200 runs each)", "app p50", "app p95", "app max", "raw p50", "raw p95", "ratio"
    );
    let mut worst: f64 = 0.0;
    for (name, query) in &cases {
        // Warm the statement cache and the page cache once, as a running app would be.
        find::list(&db.conn(), &query(0)).expect("warm");
        raw(&raw_conn, &query(0));
        let app = measure(200, |i| {
            find::list(&db.conn(), &query(i)).expect("list");
        });
        let plain = measure(200, |i| {
            raw(&raw_conn, &query(i));
        });
        worst = worst.max(app.p95);
        println!(
            "{name:<38} {:>7.3}ms {:>7.3}ms {:>7.3}ms | {:>7.3}ms {:>7.3}ms | {:>5.2}×",
            app.p50,
            app.p95,
            app.max,
            plain.p50,
            plain.p95,
            app.p95 / plain.p95
        );
    }
    println!(
        "\nworst app p95: {worst:.3} ms (target ≤ 5 ms) — {}",
        if worst <= 5.0 { "met" } else { "NOT MET" }
    );
}
