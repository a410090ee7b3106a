//! Locations volunteers share from Element, read from the team room and handed to
//! [`crate::locations`] for the sessions they are out on:
//! - a pin: an `m.room.message` of msgtype `m.location` (MSC3488), with `geo_uri` and the
//!   extensible `m.location`/`org.matrix.msc3488.location`;
//! - live location (MSC3489, MSC3672): a `beacon_info` state event says who shares and until
//!   when, and `beacon` events carry the positions. Stable and unstable names are both read.
//!
//! Everything here is a claim by a room member: a position must be a place on Earth, its time
//! is never later than the server's, and it counts only for the running sessions its
//! authenticated sender is out on, and only if taken after the session started.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde_json::Value;

use super::apply::{first_sight, sessions_for, Incoming, Outcome};
use super::chat::ChatAnswer;
use crate::locations::{self, Fix, Noted, Sharing};
use crate::time::from_millis;

pub const BEACON_INFO_TYPES: [&str; 2] = ["m.beacon_info", "org.matrix.msc3672.beacon_info"];
pub const BEACON_TYPES: [&str; 2] = ["m.beacon", "org.matrix.msc3672.beacon"];
const LOCATION_FIELDS: [&str; 2] = ["m.location", "org.matrix.msc3488.location"];
const TS_FIELDS: [&str; 2] = ["m.ts", "org.matrix.msc3488.ts"];
/// No geo URI a phone sends is longer; a longer one is not read at all.
const LONGEST_URI: usize = 256;
/// The longest live-location share the app believes: Element offers up to 8 hours.
const LONGEST_SHARE: Duration = Duration::hours(24);

/// A position from a geo URI (RFC 5870): `geo:51.5,-0.12;u=35`, with an optional altitude
/// and parameters; only the WGS 84 reference system, the one phones use.
pub fn geo_uri(uri: &str) -> Option<Fix> {
    if uri.len() > LONGEST_URI {
        return None;
    }
    let (scheme, rest) = uri.trim().split_once(':')?;
    if !scheme.eq_ignore_ascii_case("geo") {
        return None;
    }
    let mut parts = rest.split(';');
    let mut numbers = parts.next()?.split(',');
    let number = |text: Option<&str>| text?.trim().parse::<f64>().ok();
    let (latitude, longitude) = (number(numbers.next())?, number(numbers.next())?);
    let mut accuracy = None;
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "u" => accuracy = value.trim().parse::<f64>().ok(),
            "crs" if !value.trim().eq_ignore_ascii_case("wgs84") => return None,
            _ => {}
        }
    }
    Fix::new(latitude, longitude, accuracy)
}

/// The time the sender's phone put on the content, if it is one.
fn declared_time(content: &Value) -> Option<DateTime<Utc>> {
    TS_FIELDS
        .iter()
        .find_map(|field| content.get(*field)?.as_i64())
        .and_then(from_millis)
}

/// The position in the extensible location field, or else in `geo_uri`.
fn position(content: &Value) -> Option<Fix> {
    LOCATION_FIELDS
        .iter()
        .find_map(|field| content.get(*field)?.get("uri")?.as_str())
        .or_else(|| content.get("geo_uri")?.as_str())
        .and_then(geo_uri)
}

/// A pinned location: an `m.location` message.
pub fn pin(content: &Value) -> Option<(Fix, Option<DateTime<Utc>>)> {
    if content.get("msgtype")?.as_str()? != "m.location" {
        return None;
    }
    Some((position(content)?, declared_time(content)))
}

/// A position from live location: a `beacon` event.
pub fn beacon(content: &Value) -> Option<(Fix, Option<DateTime<Utc>>)> {
    Some((position(content)?, declared_time(content)))
}

/// A member starting or stopping live location: `beacon_info` state.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconInfo {
    pub live: bool,
    pub started: Option<DateTime<Utc>>,
    pub timeout: Duration,
}

pub fn beacon_info(content: &Value) -> Option<BeaconInfo> {
    let timeout_ms = content
        .get("timeout")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(LONGEST_SHARE.num_milliseconds() as u64);
    Some(BeaconInfo {
        live: content.get("live")?.as_bool()?,
        started: declared_time(content),
        timeout: Duration::milliseconds(timeout_ms as i64),
    })
}

/// When it was taken: as the phone says, but never later than the server received it.
fn taken_at(declared: Option<DateTime<Utc>>, incoming: &Incoming) -> DateTime<Utc> {
    declared.map_or(incoming.at, |at| at.min(incoming.at))
}

/// The running sessions of the room that `sender` is out on (as for a check-in by chat)
/// and that had started by `at`.
fn sessions_of(
    conn: &Connection,
    room: &str,
    sender: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<Vec<i64>> {
    let mut started_by = Vec::new();
    for id in sessions_for(conn, room, sender, None, &ChatAnswer::CheckIn)? {
        let started: i64 = conn.query_row(
            "SELECT started_at FROM checkin_session WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if from_millis(started).is_some_and(|started| started <= at) {
            started_by.push(id);
        }
    }
    Ok(started_by)
}

/// A position from a member: kept as their latest for each session they are out on.
pub fn apply_location(
    conn: &mut Connection,
    incoming: &Incoming,
    (fix, declared): (Fix, Option<DateTime<Utc>>),
    live: bool,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, None, false)? || incoming.own {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let at = taken_at(declared, incoming);
    let mut kept = false;
    for session_id in sessions_of(&tx, incoming.room_id, incoming.sender, at)? {
        kept |= locations::note(
            &tx,
            &Noted {
                session_id,
                sender: incoming.sender,
                sender_name: incoming.sender_name,
                fix,
                at,
                live,
                event_id: incoming.event_id,
            },
        )?;
    }
    tx.commit()?;
    Ok(Outcome::changed_if(kept))
}

/// A member's `beacon_info`: whose state it is (the state key) must be the sender.
pub fn apply_sharing(
    conn: &mut Connection,
    incoming: &Incoming,
    state_key: &str,
    info: &BeaconInfo,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, None, false)? || state_key != incoming.sender {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let since = taken_at(info.started, incoming);
    let changed = locations::note_sharing(
        &tx,
        &Sharing {
            room_id: incoming.room_id,
            user_id: incoming.sender,
            live: info.live && info.timeout > Duration::zero(),
            since,
            until: since + info.timeout,
            event_id: incoming.event_id,
        },
    )?;
    tx.commit()?;
    Ok(Outcome::changed_if(changed))
}

#[cfg(test)]
mod tests;
