use chrono::TimeZone;

use super::*;
use crate::storage::Database;

fn at(day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h, 0, 0).unwrap()
}

fn database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, database)
}

/// A team session started at `started`, ended at `ended` if given.
fn session(conn: &Connection, started: DateTime<Utc>, ended: Option<DateTime<Utc>>) -> i64 {
    conn.execute(
        "INSERT INTO checkin_session (kind, mode, title, participants, people_key, escalation,
             started_at, ends_at, reminder_lead_min, grace_min, next_due_at, ended_at, team_room, origin)
         VALUES ('canvass', 'me', 'Ward 3', '[]', '', '[]', ?1, ?1, 5, 10, ?1, ?2, '!r:x', 'local')",
        params![to_millis(started), ended.map(to_millis)],
    )
    .unwrap();
    conn.last_insert_rowid()
}

fn keep(conn: &Connection, session_id: i64, when: DateTime<Utc>) -> bool {
    note(
        conn,
        &Noted {
            session_id,
            sender: "@ben:x",
            sender_name: "Ben",
            fix: Fix::new(51.5, -0.1, Some(20.0)).unwrap(),
            at: when,
            live: true,
            event_id: &format!("${}", when.timestamp()),
        },
    )
    .unwrap()
}

#[test]
fn locations_go_the_chosen_days_after_their_session_ends_and_not_before() {
    let (_dir, database) = database();
    let conn = database.conn();
    let long_ended = session(&conn, at(1, 10), Some(at(1, 12)));
    let lately_ended = session(&conn, at(20, 10), Some(at(20, 12)));
    let running = session(&conn, at(1, 10), None);
    for id in [long_ended, lately_ended, running] {
        assert!(keep(
            &conn,
            id,
            at(if id == lately_ended { 20 } else { 1 }, 11)
        ));
    }
    assert_eq!(
        next_expiry(&conn, 7).unwrap(),
        Some(at(8, 12)),
        "the first ended session's end plus 7 days"
    );
    assert_eq!(forget_expired(&conn, at(8, 11), 7).unwrap(), 0);
    assert_eq!(forget_expired(&conn, at(25, 0), 7).unwrap(), 1);
    assert!(last_known(&conn, long_ended).unwrap().is_none());
    assert!(last_known(&conn, lately_ended).unwrap().is_some());
    assert!(
        last_known(&conn, running).unwrap().is_some(),
        "a running session keeps its own"
    );
    assert_eq!(next_expiry(&conn, 7).unwrap(), Some(at(27, 12)));
    // Extreme settings and clocks do not panic.
    forget_expired(&conn, DateTime::<Utc>::MIN_UTC, u32::MAX).unwrap();
    forget_expired(&conn, DateTime::<Utc>::MAX_UTC, 0).unwrap();
    assert!(last_known(&conn, lately_ended).unwrap().is_none());
    assert!(next_expiry(&conn, u32::MAX).is_ok());
}

#[test]
fn the_latest_location_wins_and_a_row_that_is_no_place_is_not_shown() {
    let (_dir, database) = database();
    let conn = database.conn();
    let id = session(&conn, at(1, 10), None);
    assert!(keep(&conn, id, at(1, 12)));
    assert!(
        !keep(&conn, id, at(1, 11)),
        "an older one does not replace it"
    );
    let shown = last_known(&conn, id).unwrap().unwrap();
    assert_eq!(shown.at, at(1, 12));
    assert_eq!(
        shown.sentence(),
        "51.50000, -0.10000 (within 20 m), from Ben at 12:00"
    );
    assert_eq!(shown.age_at(at(1, 12) + Duration::minutes(4)), "4 min");
    assert_eq!(shown.age_at(at(1, 14) + Duration::minutes(5)), "2 h 5 min");
    assert_eq!(shown.age_at(at(1, 11)), "less than a minute");
    conn.execute("UPDATE session_location SET latitude = 400", [])
        .unwrap();
    assert_eq!(last_known(&conn, id).unwrap(), None);
    conn.execute(
        "UPDATE session_location SET latitude = 51, at = ?1",
        [i64::MAX],
    )
    .unwrap();
    assert_eq!(last_known(&conn, id).unwrap(), None);
}

#[test]
fn a_fix_is_a_place_on_earth() {
    assert!(Fix::new(90.0, -180.0, None).is_some());
    for (lat, lon) in [
        (90.1, 0.0),
        (0.0, 180.5),
        (f64::NAN, 0.0),
        (0.0, f64::INFINITY),
    ] {
        assert!(Fix::new(lat, lon, None).is_none(), "{lat},{lon}");
    }
    assert_eq!(Fix::new(1.0, 1.0, Some(-1.0)).unwrap().accuracy_m, None);
    assert_eq!(Fix::new(1.0, 1.0, Some(f64::NAN)).unwrap().accuracy_m, None);
    assert_eq!(Fix::new(1.0, 1.0, Some(2e6)).unwrap().accuracy_m, None);
    assert_eq!(Fix::new(1.0, 1.0, Some(12.4)).unwrap().accuracy_m, Some(12));
}
