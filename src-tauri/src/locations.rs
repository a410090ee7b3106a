//! Where the people out on a shared session last were: the latest location each of them sent
//! from their phone (a pin or live location, read from the team room by the relay), and who
//! is sharing live location now. Kept only with the session, in the encrypted database, and
//! deleted some days after the session ends (a setting). Coordinates never go to the log.
//!
//! A location is never shown without its age: every view carries the time it was taken.

pub mod keeper;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::time::{format_local, from_millis, to_millis};

/// A position on the WGS 84 globe, checked: finite, in range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub latitude: f64,
    pub longitude: f64,
    /// The radius it is good to, in metres, when the phone said.
    pub accuracy_m: Option<u32>,
}

/// The widest radius worth keeping: beyond it "accuracy" says nothing about where they are.
const WIDEST_ACCURACY_M: f64 = 1_000_000.0;

impl Fix {
    /// None unless the coordinates are a place on Earth. An accuracy that is not a radius
    /// (negative, not a number, wider than 1,000 km) is dropped, not trusted.
    pub fn new(latitude: f64, longitude: f64, accuracy_m: Option<f64>) -> Option<Fix> {
        let in_range = latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude);
        in_range.then(|| Fix {
            latitude,
            longitude,
            accuracy_m: accuracy_m
                .filter(|a| a.is_finite() && (0.0..=WIDEST_ACCURACY_M).contains(a))
                .map(|a| a.round() as u32),
        })
    }

    /// "51.50123, -0.12345": five decimals, about a metre.
    pub fn coordinates(&self) -> String {
        format!("{:.5}, {:.5}", self.latitude, self.longitude)
    }
}

/// A location heard from a team member, for one session.
#[derive(Debug, Clone)]
pub struct Noted<'a> {
    pub session_id: i64,
    pub sender: &'a str,
    pub sender_name: &'a str,
    pub fix: Fix,
    pub at: DateTime<Utc>,
    pub live: bool,
    pub event_id: &'a str,
}

/// Keeps `noted` as the sender's latest for its session, unless a later one is kept already.
/// Returns whether it was kept.
pub fn note(conn: &Connection, noted: &Noted) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "INSERT INTO session_location
             (session_id, sender, sender_name, latitude, longitude, accuracy_m, at, live, event_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (session_id, sender) DO UPDATE SET
             sender_name = excluded.sender_name, latitude = excluded.latitude,
             longitude = excluded.longitude, accuracy_m = excluded.accuracy_m, at = excluded.at,
             live = excluded.live, event_id = excluded.event_id
         WHERE excluded.at >= session_location.at AND excluded.event_id <> session_location.event_id",
        params![
            noted.session_id,
            noted.sender,
            noted.sender_name,
            noted.fix.latitude,
            noted.fix.longitude,
            noted.fix.accuracy_m,
            to_millis(noted.at),
            noted.live,
            noted.event_id
        ],
    )?;
    Ok(changed == 1)
}

/// A member's live-location state in a team room (from their `beacon_info`).
#[derive(Debug, Clone)]
pub struct Sharing<'a> {
    pub room_id: &'a str,
    pub user_id: &'a str,
    pub live: bool,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub event_id: &'a str,
}

/// Keeps a member's latest live-location state in a room. Returns whether it changed.
pub fn note_sharing(conn: &Connection, sharing: &Sharing) -> rusqlite::Result<bool> {
    if !sharing.live {
        let stopped = conn.execute(
            "DELETE FROM location_share WHERE room_id = ?1 AND user_id = ?2",
            params![sharing.room_id, sharing.user_id],
        )?;
        return Ok(stopped == 1);
    }
    let changed = conn.execute(
        "INSERT INTO location_share (room_id, user_id, live, since, until, event_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (room_id, user_id) DO UPDATE SET
             live = excluded.live, since = excluded.since, until = excluded.until,
             event_id = excluded.event_id
         WHERE excluded.event_id <> location_share.event_id",
        params![
            sharing.room_id,
            sharing.user_id,
            sharing.live,
            to_millis(sharing.since),
            to_millis(sharing.until),
            sharing.event_id
        ],
    )?;
    Ok(changed == 1)
}

/// A location as the screens and posts show it: always with its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastLocation {
    /// "51.50123, -0.12345".
    pub coordinates: String,
    pub accuracy_m: Option<u32>,
    /// When it was taken (UTC), for the age.
    pub at: DateTime<Utc>,
    pub at_local: String,
    pub sender: String,
    pub sender_name: String,
    pub live: bool,
    /// Opens the phone's or computer's own map app.
    pub geo_uri: String,
    /// Opens OpenStreetMap in the browser; the app itself fetches no map.
    pub map_url: String,
}

impl LastLocation {
    fn of(fix: Fix, at: DateTime<Utc>, sender: String, sender_name: String, live: bool) -> Self {
        let (lat, lon) = (
            format!("{:.5}", fix.latitude),
            format!("{:.5}", fix.longitude),
        );
        LastLocation {
            coordinates: fix.coordinates(),
            accuracy_m: fix.accuracy_m,
            at,
            at_local: format_local(at),
            sender,
            sender_name,
            live,
            geo_uri: match fix.accuracy_m {
                Some(metres) => format!("geo:{lat},{lon};u={metres}"),
                None => format!("geo:{lat},{lon}"),
            },
            map_url: format!(
                "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
            ),
        }
    }

    /// "51.50123, -0.12345 (within 35 m), from Vic at 14:26": for posts and notices, which
    /// add the age as it stands when they are written.
    pub fn sentence(&self) -> String {
        let within = self
            .accuracy_m
            .map(|m| format!(" (within {m} m)"))
            .unwrap_or_default();
        let time = self.at_local.rsplit(", ").next().unwrap_or_default();
        format!(
            "{}{within}, from {} at {time}",
            self.coordinates, self.sender_name
        )
    }

    /// "4 min before 14:30", "just before 14:30", "2 h 5 min before 16:35": the age at `then`.
    pub fn age_at(&self, then: DateTime<Utc>) -> String {
        let minutes = (then - self.at).num_minutes().max(0);
        match minutes {
            0 => "less than a minute".into(),
            1..=59 => format!("{minutes} min"),
            _ if minutes % 60 == 0 => format!("{} h", minutes / 60),
            _ => format!("{} h {} min", minutes / 60, minutes % 60),
        }
    }
}

/// The latest location anyone on session `session_id` sent, if any.
pub fn last_known(conn: &Connection, session_id: i64) -> rusqlite::Result<Option<LastLocation>> {
    let row = conn
        .prepare_cached(
            "SELECT latitude, longitude, accuracy_m, at, sender, sender_name, live
             FROM session_location WHERE session_id = ?1 ORDER BY at DESC, sender LIMIT 1",
        )?
        .query_row([session_id], |r| {
            Ok((
                r.get::<_, f64>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })
        .optional()?;
    // A row written outside the app that is not a place or a time is not shown.
    Ok(
        row.and_then(|(lat, lon, accuracy, at, sender, name, live)| {
            let fix = Fix::new(lat, lon, accuracy.map(|a| a as f64))?;
            Some(LastLocation::of(fix, from_millis(at)?, sender, name, live))
        }),
    )
}

/// Someone sharing live location now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharingNow {
    pub user_id: String,
    pub since: DateTime<Utc>,
    pub since_local: String,
    pub until_local: String,
}

/// Of `people` (Matrix ids), who shares live location in `room_id` at `now`, longest first.
pub fn sharing_now(
    conn: &Connection,
    room_id: &str,
    people: &[String],
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<SharingNow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, since, until FROM location_share
         WHERE room_id = ?1 AND live = 1 AND until > ?2 ORDER BY since, user_id",
    )?;
    let rows: Vec<(String, i64, i64)> = stmt
        .query_map(params![room_id, to_millis(now)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|(user, ..)| people.contains(user))
        .filter_map(|(user_id, since, until)| {
            let (since, until) = (from_millis(since)?, from_millis(until)?);
            Some(SharingNow {
                user_id,
                since,
                since_local: format_local(since),
                until_local: format_local(until),
            })
        })
        .collect())
}

/// Deletes the locations of sessions that ended more than `keep_days` days before `now`, and
/// live-location shares that have ended. Returns how many locations went.
pub fn forget_expired(
    conn: &Connection,
    now: DateTime<Utc>,
    keep_days: u32,
) -> rusqlite::Result<usize> {
    let before = to_millis(
        now.checked_sub_signed(Duration::days(i64::from(keep_days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    );
    let gone = conn.execute(
        "DELETE FROM session_location WHERE session_id IN
             (SELECT id FROM checkin_session WHERE ended_at IS NOT NULL AND ended_at <= ?1)",
        [before],
    )?;
    // Who shares live location matters only while they do.
    conn.execute(
        "DELETE FROM location_share WHERE until <= ?1",
        [to_millis(now)],
    )?;
    if gone > 0 {
        tracing::info!(locations = gone, "locations of ended sessions deleted");
    }
    Ok(gone)
}

/// When the next kept location (or live-location share) falls due for deletion, if any.
pub fn next_expiry(conn: &Connection, keep_days: u32) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let ended: Option<i64> = conn.query_row(
        "SELECT min(s.ended_at) FROM session_location l JOIN checkin_session s ON s.id = l.session_id
         WHERE s.ended_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    let shared: Option<i64> =
        conn.query_row("SELECT min(until) FROM location_share", [], |r| r.get(0))?;
    let keep = Duration::days(i64::from(keep_days));
    let locations_go = ended
        .and_then(from_millis)
        .and_then(|at| at.checked_add_signed(keep));
    Ok(locations_go
        .into_iter()
        .chain(shared.and_then(from_millis))
        .min())
}

#[cfg(test)]
mod tests;
