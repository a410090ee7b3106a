//! The do-not-knock list shared through the team rooms: an entry added or removed on one
//! device is posted to every team this device is in, and every member's device adds or
//! removes it too. Party-list imports go in posts of up to [`ENTRIES_PER_POST`] entries.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::apply::{first_sight, Incoming, Outcome};
use crate::donotknock::{self, DoorSink};
pub use crate::donotknock::{DoorChange as Change, SharedEntry};
use crate::time::to_millis;

/// The namespaced field that carries shared do-not-knock entries.
pub const FIELD: &str = "uk.campaignsafe.donotknock";
pub const VERSION: u32 = 1;
const ENTRIES_PER_POST: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterPost {
    pub v: u32,
    pub change: Change,
    pub entries: Vec<SharedEntry>,
}

/// The do-not-knock list's changes, as posts to every team this device is in: implements
/// the list's sink.
pub struct TeamDoors;

impl DoorSink for TeamDoors {
    fn doors_changed(
        &self,
        tx: &Connection,
        change: Change,
        entries: &[SharedEntry],
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        after_change(tx, change, entries, at)
    }
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
            donotknock::Reason::parse(&one.reason)
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
    let entries = donotknock::shared::all_shared(conn)?;
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

/// Adds or removes the posted entries here, each checked as a typed entry would be. An
/// address already on the list stays as it is. A post of more entries than a device ever
/// sends in one is read no further.
pub fn apply(
    conn: &mut Connection,
    incoming: &Incoming,
    post: &RegisterPost,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, None, true)? || incoming.own {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let mut changed = false;
    for entry in post.entries.iter().take(ENTRIES_PER_POST) {
        changed |= donotknock::shared::apply_shared(&tx, post.change, entry, incoming.at)?;
    }
    tx.commit()?;
    Ok(Outcome::changed_if(changed))
}
