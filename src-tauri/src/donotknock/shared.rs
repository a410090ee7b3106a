//! The do-not-knock list shared with a team: what this device's changes are sent as, and
//! the entries other members' devices send, checked as a typed entry would be.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{address_taken, check, insert_row, CheckedEntry, EntryInput, Source};

/// Whether entries were added to the list or taken off it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorChange {
    Added,
    Removed,
}

/// An entry as the team's devices are sent it: one id on every device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedEntry {
    pub uid: String,
    pub house: String,
    pub street: String,
    pub postcode: String,
    pub reason: String,
    #[serde(default)]
    pub note: String,
    pub added_by: String,
    pub review_on: NaiveDate,
}

/// Told of every change to the list inside the transaction that makes it (the team relay
/// queues its posts there, so the change and its post go together or not at all).
pub trait DoorSink: Send + Sync {
    fn doors_changed(
        &self,
        tx: &Connection,
        change: DoorChange,
        entries: &[SharedEntry],
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()>;
}

/// For a device with no team.
pub struct NoDoorSink;

impl DoorSink for NoDoorSink {
    fn doors_changed(
        &self,
        _: &Connection,
        _: DoorChange,
        _: &[SharedEntry],
        _: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        Ok(())
    }
}

/// What the team's devices are sent for an entry.
pub(crate) fn shared_of(entry: &CheckedEntry, uid: &str) -> SharedEntry {
    SharedEntry {
        uid: uid.to_owned(),
        house: entry.house.clone(),
        street: entry.street.clone(),
        postcode: entry.postcode.clone(),
        reason: entry.reason.key().to_owned(),
        note: entry.note.clone(),
        added_by: entry.added_by.clone(),
        review_on: entry.review_on,
    }
}

/// Every entry as the team's devices are sent it, oldest first. One whose stored review
/// date does not read as a date (the app writes none) is left out rather than guessed.
pub(crate) fn all_shared(conn: &Connection) -> rusqlite::Result<Vec<SharedEntry>> {
    let mut statement = conn.prepare(
        "SELECT uid, house, street, postcode, reason, note, added_by, review_on
         FROM do_not_knock ORDER BY id",
    )?;
    let rows = statement.query_map([], |r| {
        let review_on: String = r.get(7)?;
        let Ok(review_on) = NaiveDate::parse_from_str(&review_on, "%Y-%m-%d") else {
            return Ok(None);
        };
        Ok(Some(SharedEntry {
            uid: r.get(0)?,
            house: r.get(1)?,
            street: r.get(2)?,
            postcode: r.get(3)?,
            reason: r.get(4)?,
            note: r.get(5)?,
            added_by: r.get(6)?,
            review_on,
        }))
    })?;
    rows.filter_map(Result::transpose).collect()
}

/// An entry a member's device sent: added if the form would take it and the address is not
/// here yet, or taken off (by its id) as a removal on any device would be. Returns whether
/// the list changed.
pub fn apply_shared(
    tx: &Connection,
    change: DoorChange,
    entry: &SharedEntry,
    at: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    if entry.uid.is_empty() || entry.uid.len() > 64 {
        return Ok(false);
    }
    if change == DoorChange::Removed {
        return Ok(tx.execute("DELETE FROM do_not_knock WHERE uid = ?1", [&entry.uid])? > 0);
    }
    let input = EntryInput {
        house: entry.house.clone(),
        street: entry.street.clone(),
        postcode: entry.postcode.clone(),
        reason: entry.reason.clone(),
        note: entry.note.clone(),
        added_by: entry.added_by.clone(),
        review_on: None,
        incident_id: None,
    };
    // Checked as a typed entry would be: a post cannot put what the form would refuse. Its
    // review date may have passed (the entry is due for review there too), but not be
    // further ahead than the form allows.
    let mut checked = match check(&input, at) {
        Ok(checked) => checked,
        Err(error) => {
            tracing::warn!("a shared do-not-knock entry was left out: {error}");
            return Ok(false);
        }
    };
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let review_ok = entry.review_on >= earliest
        && (entry.review_on <= crate::plausible::today(at)
            || crate::plausible::review_on("Review on", entry.review_on, at).is_ok());
    if !review_ok {
        tracing::warn!("a shared do-not-knock entry had an impossible review date; left out");
        return Ok(false);
    }
    checked.review_on = entry.review_on;
    let known: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM do_not_knock WHERE uid = ?1)",
        [&entry.uid],
        |r| r.get(0),
    )?;
    if known || address_taken(tx, &checked)? {
        return Ok(false);
    }
    insert_row(tx, &checked, Source::Canvasser, None, &entry.uid, at)?;
    Ok(true)
}
