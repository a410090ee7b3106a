//! Duress: looking fine while asking for help.
//!
//! - A team's **duress word** is set on the Team screen and reaches the team's other app
//!   devices in an encrypted event Element does not show; volunteers learn it in person. A
//!   chat message from someone out on a session that holds the word gets the room's normal
//!   answer (a check-in is confirmed as any other), and on every app device but the sender's
//!   own it raises a silent alarm. No visible message ever mentions duress.
//! - The **duress PIN** (see `applock`) unlocks as the real one does; this device then tells
//!   the team's other app devices in the same hidden event, for each session it shares.
//!
//! The word is a claim like any post: the latest set by a member of the room counts, and the
//! Team screen says who set it and when, so nobody changes it unseen.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::apply::{first_sight, Incoming, Outcome};
use super::outbox;
use crate::checkins::change::{self, Actor, DuressHow, SessionChange, Via, When};
use crate::checkins::shared;
use crate::relay::{invalid, RelayError};
use crate::time::{from_millis, to_millis};

/// The hidden event that carries a team's duress word between its app devices.
pub const WORD_TYPE: &str = "uk.campaignsafe.duress_word";
/// The hidden event that raises (or acknowledges) a duress alarm on the other app devices.
pub const SIGNAL_TYPE: &str = "uk.campaignsafe.duress";

const FIELD: &str = "duressWord";
const LABEL: &str = "Duress word";
const SHORTEST: usize = 4;
const LONGEST: usize = 30;
/// Words people say anyway in the room: a duress word must never be one of them.
const EVERYDAY: &[&str] = &[
    "okay", "safe", "help", "home", "fine", "done", "here", "thanks", "yes", "good",
];

/// The word as typed, checked: one word of letters, 4 to 30 of them, not one the room
/// hears every day. Empty: no duress word.
pub fn checked_word(typed: &str) -> Result<Option<String>, RelayError> {
    let word = typed.trim().to_lowercase();
    if word.is_empty() {
        return Ok(None);
    }
    let letters = word.chars().count();
    if !word.chars().all(char::is_alphabetic) {
        return Err(invalid(
            FIELD,
            LABEL,
            "use one word of letters only, with no spaces, digits or punctuation.",
        ));
    }
    if !(SHORTEST..=LONGEST).contains(&letters) {
        return Err(invalid(
            FIELD,
            LABEL,
            format!("use a word of {SHORTEST} to {LONGEST} letters."),
        ));
    }
    if EVERYDAY.contains(&word.as_str()) {
        return Err(invalid(
            FIELD,
            LABEL,
            "choose a word people would not say anyway, such as the name of a fruit.",
        ));
    }
    Ok(Some(word))
}

/// A team's duress word as this device knows it, and who set it when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuressWord {
    pub word: Option<String>,
    pub set_by: Option<String>,
    pub set_at: Option<DateTime<Utc>>,
}

pub fn word_of(conn: &Connection, room: &str) -> rusqlite::Result<DuressWord> {
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = conn
        .query_row(
            "SELECT duress_word, duress_set_by, duress_set_at FROM team WHERE room_id = ?1",
            [room],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (word, set_by, set_at) = row.unwrap_or_default();
    Ok(DuressWord {
        word,
        set_by,
        set_at: set_at.and_then(from_millis),
    })
}

/// Sets (or, with `None`, clears) the team's duress word here and tells its other app devices.
pub fn set_word(
    conn: &mut Connection,
    room: &str,
    word: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), RelayError> {
    let (me, _) = outbox::account(conn)?.ok_or(RelayError::SignedOut)?;
    let tx = conn.transaction()?;
    let changed = tx.execute(
        "UPDATE team SET duress_word = ?2, duress_set_by = ?3, duress_set_at = ?4 WHERE room_id = ?1",
        params![room, word, me, to_millis(now)],
    )?;
    if changed == 0 {
        return Err(RelayError::UnknownTeam(room.to_owned()));
    }
    tx.execute(
        "INSERT INTO team_outbox (room_id, kind, content, not_before, created_at)
         VALUES (?1, 'duress_word', ?2, ?3, ?3)",
        params![
            room,
            json!({ "v": 1, "word": word }).to_string(),
            to_millis(now)
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// A duress word from the room: the latest (by the server's time) counts.
pub fn note_word(
    conn: &mut Connection,
    incoming: &Incoming,
    content: &Value,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, None, true)? || incoming.own {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let word = match content.get("word") {
        Some(Value::Null) => None,
        Some(Value::String(word)) => match checked_word(word) {
            Ok(word) => word,
            Err(_) => {
                tracing::warn!("a duress word from the team room was not one the app allows");
                tx.commit()?;
                return Ok(Outcome::Nothing);
            }
        },
        _ => {
            tx.commit()?;
            return Ok(Outcome::Nothing);
        }
    };
    let changed = tx.execute(
        "UPDATE team SET duress_word = ?2, duress_set_by = ?3, duress_set_at = ?4
         WHERE room_id = ?1 AND coalesce(duress_set_at, 0) <= ?4",
        params![
            incoming.room_id,
            word,
            incoming.sender,
            to_millis(incoming.at)
        ],
    )?;
    tx.commit()?;
    Ok(if changed == 1 {
        Outcome::Changed
    } else {
        Outcome::Nothing
    })
}

/// Whether `body` holds the team's duress word, as a word of its own in any case.
pub fn holds_word(conn: &Connection, room: &str, body: &str) -> rusqlite::Result<bool> {
    let Some(word) = word_of(conn, room)?.word else {
        return Ok(false);
    };
    Ok(body
        .split(|c: char| !c.is_alphanumeric())
        .any(|token| token.to_lowercase() == word))
}

/// Raises the duress alarm for `sessions` (in the caller's transaction), as the sender.
pub fn raise(
    tx: &Connection,
    incoming: &Incoming,
    sessions: &[i64],
    how: DuressHow,
    via: Via,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let me = outbox::account(tx)?
        .map(|(user, _)| user)
        .unwrap_or_default();
    let actor = Actor::Member {
        user_id: incoming.sender.to_owned(),
        name: incoming.sender_name.to_owned(),
        via,
    };
    let when = When {
        at: incoming.at,
        now,
    };
    let mut raised = false;
    for id in sessions {
        let change = SessionChange::Duress { how };
        match change::apply(
            tx,
            *id,
            &change,
            &actor,
            when,
            &me,
            &super::outbox::TeamPosts,
        ) {
            Ok(crate::checkins::Outcome::Applied) => raised = true,
            Ok(_) => {}
            Err(crate::checkins::CheckinError::Storage(crate::storage::StorageError::Sqlite(
                error,
            ))) => return Err(error),
            Err(error) => tracing::warn!("a duress signal was not applied: {error}"),
        }
    }
    Ok(raised)
}

/// Queues the hidden signal for session `uuid` in `room`: "raised" (the duress PIN) or
/// "acknowledged".
pub fn enqueue_signal(
    conn: &Connection,
    room: &str,
    uuid: &str,
    action: &str,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO team_outbox (room_id, kind, session, content, not_before, created_at)
         VALUES (?1, 'duress', ?2, ?3, ?4, ?4)",
        params![
            room,
            uuid,
            json!({ "v": 1, "action": action, "session": uuid }).to_string(),
            to_millis(at)
        ],
    )?;
    Ok(())
}

/// The duress PIN was entered here: every session this device shares that is still out
/// tells the team. Returns how many.
pub fn signal_pin(conn: &mut Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let sessions: Vec<(String, String)> = tx
        .prepare(
            "SELECT team_room, team_session FROM checkin_session
             WHERE ended_at IS NULL AND origin = 'local' AND team_room IS NOT NULL
               AND team_session IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (room, uuid) in &sessions {
        enqueue_signal(&tx, room, uuid, "raised", now)?;
    }
    tx.commit()?;
    Ok(sessions.len())
}

/// A hidden duress signal from another app device.
pub fn apply_signal(
    conn: &mut Connection,
    incoming: &Incoming,
    content: &Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    let uuid = content.get("session").and_then(Value::as_str);
    if !first_sight(&tx, incoming, None, uuid, true)? || incoming.own {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let Some(id) = uuid
        .map(|uuid| shared::find(&tx, uuid))
        .transpose()?
        .flatten()
    else {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    };
    let changed = match content.get("action").and_then(Value::as_str) {
        Some("raised") => raise(&tx, incoming, &[id], DuressHow::Pin, Via::App, now)?,
        Some("acknowledged") => {
            let me = outbox::account(&tx)?
                .map(|(user, _)| user)
                .unwrap_or_default();
            let actor = Actor::Member {
                user_id: incoming.sender.to_owned(),
                name: incoming.sender_name.to_owned(),
                via: Via::App,
            };
            let when = When {
                at: incoming.at,
                now,
            };
            matches!(
                change::apply(
                    &tx,
                    id,
                    &SessionChange::AcknowledgeDuress,
                    &actor,
                    when,
                    &me,
                    &super::outbox::TeamPosts
                ),
                Ok(crate::checkins::Outcome::Applied)
            )
        }
        _ => false,
    };
    tx.commit()?;
    Ok(Outcome::changed_if(changed))
}

#[cfg(test)]
mod tests;
