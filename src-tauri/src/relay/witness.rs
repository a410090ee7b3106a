//! The team as witness of each device's incident record (issue 24, section 4). When incidents
//! change, this device posts its record's head (the number of versions and one hash, signed
//! with the record's device key: no incident content) to its teams, at most every few
//! minutes, as an event Element does not show. Every device keeps the heads it sees; "Check
//! the record" then finds a history rewritten after one of its heads was seen, even when it
//! was signed again with the record's own key.
//!
//! Everything in a posted head is a claim: kept only if well formed and signed by the key it
//! names. A replayed honest head is harmless; a forged one does not verify.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::apply::Incoming;
use super::apply::Outcome;
use crate::incidents::head::{self, SignedHead, WitnessedHead};
use crate::time::{from_millis, to_millis};

/// The event type of a posted head: encrypted like every post, and not shown by Element.
pub const HEAD_TYPE: &str = "uk.campaignsafe.record_head";
/// A device posts its head at most this often (a burst of edits makes one post).
pub const HEAD_EVERY_MINUTES: i64 = 5;
/// More versions than any record holds: a head claiming more is not one.
const MOST_VERSIONS: i64 = 100_000_000;

/// Queues this device's head for each of its teams: an unsent one is brought up to date, and
/// a new one waits until `HEAD_EVERY_MINUTES` after the last one sent there.
pub fn queue_head(
    conn: &Connection,
    head: &SignedHead,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let content = serde_json::json!({ "v": 1, "head": head }).to_string();
    let rooms: Vec<String> = conn
        .prepare("SELECT room_id FROM team")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for room in rooms {
        let updated = conn.execute(
            "UPDATE team_outbox SET content = ?2
             WHERE room_id = ?1 AND kind = 'head' AND sent_at IS NULL AND dropped IS NULL",
            params![room, content],
        )?;
        if updated > 0 {
            continue;
        }
        let last_sent: Option<i64> = conn
            .query_row(
                "SELECT max(sent_at) FROM team_outbox WHERE room_id = ?1 AND kind = 'head'",
                [&room],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let not_before = last_sent
            .and_then(from_millis)
            .map(|sent| sent + Duration::minutes(HEAD_EVERY_MINUTES))
            .filter(|next| *next > now)
            .unwrap_or(now);
        conn.execute(
            "INSERT INTO team_outbox (room_id, kind, content, not_before, created_at)
             VALUES (?1, 'head', ?2, ?3, ?4)",
            params![room, content, to_millis(not_before), to_millis(now)],
        )?;
    }
    Ok(())
}

/// A head posted in a team room: kept if it is one, ignored (and logged) if not.
pub fn note(
    conn: &Connection,
    incoming: &Incoming,
    content: &Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<Outcome> {
    let Some(head) = read(content) else {
        tracing::warn!(
            sender = incoming.sender,
            "a record head that is not one was ignored"
        );
        return Ok(Outcome::Nothing);
    };
    conn.execute(
        "INSERT OR IGNORE INTO record_head_seen
           (event_id, room_id, sender, signer, versions, hash, at, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            incoming.event_id,
            incoming.room_id,
            incoming.sender,
            head.signer,
            head.versions,
            head.hash,
            head.at_ms,
            to_millis(now)
        ],
    )?;
    Ok(Outcome::Nothing)
}

/// The head in `content`, if it is a well-formed one that its signer signed.
pub(crate) fn read(content: &Value) -> Option<SignedHead> {
    if content.get("v")?.as_i64()? != 1 {
        return None;
    }
    let head: SignedHead = serde_json::from_value(content.get("head")?.clone()).ok()?;
    let hex64 = |text: &str| text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    let sane = (0..=MOST_VERSIONS).contains(&head.versions)
        && hex64(&head.hash)
        && hex64(&head.signer)
        && from_millis(head.at_ms).is_some()
        && head.signature.len() == 128;
    (sane && head.verifies()).then_some(head)
}

/// The heads this record's device key signed that teams saw, each with the team that saw it
/// (the room keeps it; every member's device has a copy).
pub fn heads_signed_by(conn: &Connection, signer: &str) -> rusqlite::Result<Vec<WitnessedHead>> {
    let mut stmt = conn.prepare(
        "SELECT h.versions, h.hash, h.at, coalesce(t.name, 'a team you have left')
         FROM record_head_seen h LEFT JOIN team t ON t.room_id = h.room_id
         WHERE h.signer = ?1 GROUP BY h.at, h.hash ORDER BY h.at",
    )?;
    let heads = stmt.query_map([signer], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut witnessed = Vec::new();
    for head in heads {
        let (versions, hash, at, team) = head?;
        if let Some(at) = from_millis(at) {
            witnessed.push(WitnessedHead {
                versions,
                hash,
                at,
                by: format!("your team “{team}”"),
            });
        }
    }
    Ok(witnessed)
}

/// What "Check the record" adds from the team: each head of this record that a team saw and
/// the record no longer gives, in words.
pub fn rewritten_record(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    rewritten_record_with(conn, &[])
}

/// As `rewritten_record`, with the heads the team rooms hold on the server as well (read
/// back by the relay): the ones this device kept could have been deleted with the history.
/// A head both give is compared once.
pub fn rewritten_record_with(
    conn: &Connection,
    from_rooms: &[WitnessedHead],
) -> rusqlite::Result<Vec<String>> {
    let Some(signer) = head::own_signer(conn)? else {
        return Ok(Vec::new());
    };
    let mut witnessed = heads_signed_by(conn, &signer)?;
    for head in from_rooms {
        if !witnessed
            .iter()
            .any(|kept| kept.at == head.at && kept.hash == head.hash)
        {
            witnessed.push(head.clone());
        }
    }
    head::rewritten_since(conn, &witnessed)
}

#[cfg(test)]
mod tests;
