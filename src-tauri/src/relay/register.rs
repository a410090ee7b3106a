//! The do-not-knock list shared through the team rooms: an entry added or removed on one
//! device is posted to every team this device is in, and every member's device adds or
//! removes it too. Party-list imports go in posts of up to [`ENTRIES_PER_POST`] entries.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::apply::{first_sight, Incoming, Outcome};
use crate::time::to_millis;

/// The namespaced field that carries shared do-not-knock entries.
pub const FIELD: &str = "uk.campaignsafe.donotknock";
pub const VERSION: u32 = 1;
const ENTRIES_PER_POST: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterPost {
    pub v: u32,
    pub change: Change,
    pub entries: Vec<SharedEntry>,
}

fn teams(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    if super::outbox::account(conn)?.is_none() {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare("SELECT room_id FROM team ORDER BY joined_at")?;
    let rows = statement.query_map([], |r| r.get(0))?;
    rows.collect()
}

fn address(entry: &SharedEntry) -> String {
    let mut line = format!("{} {}", entry.house, entry.street);
    if !entry.postcode.is_empty() {
        line.push_str(&format!(", {}", entry.postcode));
    }
    line
}

/// The post: a sentence for people reading the room, and the entries for the app.
pub fn content(post: &RegisterPost) -> Value {
    let body = match (post.change, post.entries.as_slice()) {
        (Change::Added, [one]) => format!(
            "🚫 Do not knock: {} ({}). Added by {}.",
            address(one),
            crate::donotknock::Reason::parse(&one.reason)
                .map(|r| r.label())
                .unwrap_or("Other"),
            one.added_by
        ),
        (Change::Removed, [one]) => format!("Do-not-knock list: {} taken off.", address(one)),
        (Change::Added, many) => format!("🚫 Do-not-knock list: {} addresses added.", many.len()),
        (Change::Removed, many) => {
            format!("Do-not-knock list: {} addresses taken off.", many.len())
        }
    };
    json!({ "msgtype": "m.notice", "body": body, FIELD: post, "m.mentions": {} })
}

/// Queues `entries` for every team this device is in, in the caller's transaction.
pub fn after_change(
    conn: &Connection,
    change: Change,
    entries: &[SharedEntry],
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    for room in teams(conn)? {
        queue(conn, &room, change, entries, at)?;
    }
    Ok(())
}

/// Queues the whole list for a team this device has just joined or made, so the team knows
/// the doors that were added before (each member's device keeps an address once).
pub fn share_list_with(conn: &Connection, room: &str, at: DateTime<Utc>) -> rusqlite::Result<()> {
    let entries = crate::donotknock::all_shared(conn)?;
    queue(conn, room, Change::Added, &entries, at)
}

fn queue(
    conn: &Connection,
    room: &str,
    change: Change,
    entries: &[SharedEntry],
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    for chunk in entries.chunks(ENTRIES_PER_POST) {
        let post = RegisterPost {
            v: VERSION,
            change,
            entries: chunk.to_vec(),
        };
        conn.execute(
            "INSERT INTO team_outbox (room_id, kind, session, due_at, content, not_before, created_at)
             VALUES (?1, ?2, NULL, NULL, ?3, ?4, ?4)",
            params![room, "do_not_knock", content(&post).to_string(), to_millis(at)],
        )?;
    }
    Ok(())
}

/// The app's field of a message, if it is a do-not-knock post this version can read.
pub fn read(content: &Value) -> Option<RegisterPost> {
    let post: RegisterPost = serde_json::from_value(content.get(FIELD)?.clone()).ok()?;
    (post.v <= VERSION).then_some(post)
}

/// Adds or removes the posted entries here. An address already on the list stays as it is.
pub fn apply(
    conn: &mut Connection,
    incoming: &Incoming,
    post: &RegisterPost,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, None)? {
        return Ok(Outcome::Nothing);
    }
    let mut changed = false;
    for entry in &post.entries {
        changed |= match post.change {
            Change::Added => add(&tx, entry, incoming.at)?,
            Change::Removed => {
                tx.execute("DELETE FROM do_not_knock WHERE uid = ?1", [&entry.uid])? > 0
            }
        };
    }
    tx.commit()?;
    Ok(if changed {
        Outcome::Changed
    } else {
        Outcome::Nothing
    })
}

fn add(tx: &Connection, entry: &SharedEntry, at: DateTime<Utc>) -> rusqlite::Result<bool> {
    let input = crate::donotknock::EntryInput {
        house: entry.house.clone(),
        street: entry.street.clone(),
        postcode: entry.postcode.clone(),
        reason: entry.reason.clone(),
        note: entry.note.clone(),
        added_by: entry.added_by.clone(),
        review_on: None,
        incident_id: None,
    };
    // Checked as a typed entry would be: a post cannot put what the form would refuse.
    let Ok(mut checked) = crate::donotknock::check(&input, at) else {
        tracing::warn!("a shared do-not-knock entry was not valid here; it was left out");
        return Ok(false);
    };
    checked.review_on = entry.review_on;
    let known: Option<i64> = tx
        .query_row(
            "SELECT id FROM do_not_knock WHERE uid = ?1",
            [&entry.uid],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_some() {
        return Ok(false);
    }
    match crate::donotknock::insert_shared(tx, &checked, &entry.uid, at) {
        Ok(added) => Ok(added),
        Err(error) => {
            tracing::warn!("a shared do-not-knock entry could not be added: {error}");
            Ok(false)
        }
    }
}
