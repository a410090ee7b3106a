//! Applying what arrives from the team room to this device's copy of the team's sessions.
//!
//! Every event is applied once (by its event id) and every rule compares before it
//! changes, so the same room read twice, or a device's own posts coming back, change
//! nothing. The first "missed" for a session's due time wins; later ones are folded into it
//! (and a later one this device sent is returned for it to redact, so the room keeps one).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::chat::{self, ChatAnswer};
use super::outbox::{self, short_name, FROM_TEAM};
use super::wire::{Wire, WireKind};
use crate::checkins;
use crate::time::{from_millis, to_millis};

/// Where an event came from.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub room_id: &'a str,
    pub event_id: &'a str,
    pub sender: &'a str,
    /// The server's time for the event: every device computes the same from it.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Seen before, not for the app, or changing nothing.
    Nothing,
    /// A session changed here: alarms and views need a refresh.
    Changed,
    /// A later copy of a "missed" already posted; `redact` when this device sent it.
    Duplicate { redact: bool },
}

/// Records the event as seen; false if it already was.
pub(super) fn first_sight(
    conn: &Connection,
    incoming: &Incoming,
    key: Option<&str>,
    session: Option<&str>,
) -> rusqlite::Result<bool> {
    let added = conn.execute(
        "INSERT OR IGNORE INTO team_event_seen (event_id, room_id, dedupe_key, session, sender, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![incoming.event_id, incoming.room_id, key, session, incoming.sender, to_millis(incoming.at)],
    )?;
    Ok(added == 1)
}

struct Row {
    id: i64,
    next_due_at: i64,
    last_check_in_at: Option<i64>,
    missed_for: Option<i64>,
    help: bool,
    acknowledged: bool,
    ended: bool,
    owner: String,
    chat_members: Vec<String>,
    origin: String,
}

fn session_row(conn: &Connection, uuid: &str) -> rusqlite::Result<Option<Row>> {
    conn.query_row(
        "SELECT id, next_due_at, last_check_in_at, missed_for, acknowledged_at, ended_at, owner, chat_members, origin, help_at
         FROM checkin_session WHERE team_session = ?1",
        [uuid],
        |r| {
            Ok(Row {
                id: r.get(0)?,
                next_due_at: r.get(1)?,
                last_check_in_at: r.get(2)?,
                missed_for: r.get(3)?,
                acknowledged: r.get::<_, Option<i64>>(4)?.is_some(),
                ended: r.get::<_, Option<i64>>(5)?.is_some(),
                owner: r.get(6)?,
                chat_members: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                origin: r.get(8)?,
                help: r.get::<_, Option<i64>>(9)?.is_some(),
            })
        },
    )
    .optional()
}

fn timeline(
    conn: &Connection,
    session: i64,
    at: i64,
    kind: &str,
    by: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO checkin_event (session_id, at, kind, by_whom, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![session, at, kind, format!("{FROM_TEAM}{by}"), detail],
    )?;
    Ok(())
}

/// Applies a post carrying the app's field.
pub fn apply_wire(
    conn: &mut Connection,
    incoming: &Incoming,
    wire: &Wire,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    let key = wire.dedupe_key();
    if let Some(key) = &key {
        let earlier: Option<String> = tx
            .query_row(
                "SELECT event_id FROM team_event_seen WHERE dedupe_key = ?1 AND event_id <> ?2",
                params![key, incoming.event_id],
                |r| r.get(0),
            )
            .optional()?;
        if earlier.is_some() {
            let fresh = first_sight(&tx, incoming, None, Some(&wire.session))?;
            let ours = outbox::sent_post(&tx, incoming.event_id)?.is_some();
            tx.commit()?;
            return Ok(if fresh || ours {
                Outcome::Duplicate { redact: ours }
            } else {
                Outcome::Nothing
            });
        }
    }
    if !first_sight(&tx, incoming, key.as_deref(), Some(&wire.session))? {
        return Ok(Outcome::Nothing);
    }
    let changed = apply_rule(&tx, incoming, wire)?;
    tx.commit()?;
    Ok(if changed {
        Outcome::Changed
    } else {
        Outcome::Nothing
    })
}

fn apply_rule(tx: &Connection, incoming: &Incoming, wire: &Wire) -> rusqlite::Result<bool> {
    let row = session_row(tx, &wire.session)?;
    let by = if wire.by.is_empty() {
        short_name(incoming.sender)
    } else {
        wire.by.clone()
    };
    let how = wire.how.clone().unwrap_or_default();
    let Some(row) = row else {
        return match (&wire.event, &wire.info) {
            (WireKind::Started, Some(info)) => {
                start_mirror(tx, incoming, wire, info)?;
                Ok(true)
            }
            _ => Ok(false),
        };
    };
    if row.ended {
        return Ok(false);
    }
    let clear =
        "reminded_for = NULL, snoozed_until = NULL, missed_for = NULL, last_alert_at = NULL,
                 acknowledged_at = NULL, help_at = NULL";
    let changed = match wire.event {
        WireKind::CheckedIn if row.last_check_in_at.is_none_or(|last| wire.at > last) => {
            tx.execute(
                &format!("UPDATE checkin_session SET next_due_at = ?2, ends_at = coalesce(?3, ends_at), last_check_in_at = ?4, {clear} WHERE id = ?1"),
                params![row.id, wire.next_due_at.unwrap_or(row.next_due_at), wire.ends_at, wire.at],
            )?;
            timeline(tx, row.id, wire.at, "checked_in", &by, &how)?;
            true
        }
        WireKind::Extended if wire.next_due_at.is_some_and(|due| due != row.next_due_at) => {
            tx.execute(
                &format!("UPDATE checkin_session SET next_due_at = ?2, ends_at = coalesce(?3, ends_at), {clear} WHERE id = ?1"),
                params![row.id, wire.next_due_at, wire.ends_at],
            )?;
            timeline(tx, row.id, wire.at, "extended", &by, "")?;
            true
        }
        WireKind::Missed
            if wire.due_at == Some(row.next_due_at) && row.missed_for != wire.due_at =>
        {
            tx.execute(
                "UPDATE checkin_session SET missed_for = ?2, last_alert_at = ?3, snoozed_until = NULL WHERE id = ?1",
                params![row.id, row.next_due_at, to_millis(incoming.at)],
            )?;
            timeline(
                tx,
                row.id,
                to_millis(incoming.at),
                "missed",
                &by,
                "posted to the team",
            )?;
            true
        }
        // Someone is dealing with a missed check-in, or with a call for help.
        WireKind::Acknowledged
            if (row.help || wire.due_at == row.missed_for) && !row.acknowledged =>
        {
            tx.execute(
                "UPDATE checkin_session SET acknowledged_at = ?2 WHERE id = ?1",
                params![row.id, wire.at],
            )?;
            timeline(tx, row.id, wire.at, "acknowledged", &by, "")?;
            true
        }
        WireKind::Ended => {
            tx.execute(
                "UPDATE checkin_session SET ended_at = ?2 WHERE id = ?1",
                params![row.id, wire.at],
            )?;
            timeline(tx, row.id, wire.at, "ended_safe", &by, "")?;
            true
        }
        WireKind::Help => help(tx, row.id, wire.at, &by)?,
        _ => false,
    };
    Ok(changed)
}

/// A session another device started: tracked here as one this device watches.
fn start_mirror(
    tx: &Connection,
    incoming: &Incoming,
    wire: &Wire,
    info: &super::wire::SharedSession,
) -> rusqlite::Result<()> {
    let names: Vec<String> = info
        .participants
        .iter()
        .map(|n| n.trim().to_lowercase())
        .collect();
    let kind = serde_json::to_value(info.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "canvass".into());
    tx.execute(
        "INSERT INTO checkin_session (kind, mode, title, participants, people_key, place, notes, escalation,
             started_at, ends_at, interval_min, reminder_lead_min, grace_min, next_due_at,
             team_room, team_session, origin, owner, chat_members)
         VALUES (?1, 'watching', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, 'team', ?15, ?16)",
        params![
            kind, info.title, serde_json::to_string(&info.participants).unwrap_or_default(),
            format!("team\u{1f}{}\u{1f}{}", wire.session, names.join("\u{1f}")),
            info.place, info.notes, serde_json::to_string(&info.escalation).unwrap_or_default(),
            info.started_at, wire.ends_at.unwrap_or(info.started_at), info.interval_minutes,
            info.grace_minutes, wire.next_due_at.unwrap_or(info.started_at),
            incoming.room_id, wire.session, incoming.sender,
            serde_json::to_string(&info.chat_members).unwrap_or_default(),
        ],
    )?;
    timeline(
        tx,
        tx.last_insert_rowid(),
        wire.at,
        "started",
        &wire.by,
        "shared with the team",
    )
}

fn help(tx: &Connection, session: i64, at: i64, by: &str) -> rusqlite::Result<bool> {
    let changed = tx.execute(
        "UPDATE checkin_session SET help_at = ?2, acknowledged_at = NULL WHERE id = ?1 AND help_at IS NULL",
        params![session, at],
    )?;
    if changed == 1 {
        timeline(
            tx,
            session,
            at,
            "help",
            by,
            "asked for help in the team room",
        )?;
    }
    Ok(changed == 1)
}

/// The shared session a post of the room is about (a reminder a volunteer replied to).
fn session_of_event(tx: &Connection, event_id: &str) -> rusqlite::Result<Option<String>> {
    if let Some((_, session)) = outbox::sent_post(tx, event_id)? {
        return Ok(session);
    }
    tx.query_row(
        "SELECT session FROM team_event_seen WHERE event_id = ?1",
        [event_id],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// Sessions in `room` that `sender` may answer for from chat: the chosen one if given, else
/// every active one they are out on.
fn sessions_for(
    tx: &Connection,
    room: &str,
    sender: &str,
    about: Option<String>,
) -> rusqlite::Result<Vec<Row>> {
    let uuids: Vec<String> = match about {
        Some(uuid) => vec![uuid],
        None => tx
            .prepare("SELECT team_session FROM checkin_session WHERE team_room = ?1 AND ended_at IS NULL")?
            .query_map([room], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
    };
    let mut rows = Vec::new();
    for uuid in uuids {
        if let Some(row) = session_row(tx, &uuid)? {
            if !row.ended && (row.chat_members.iter().any(|m| m == sender) || row.owner == sender) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// A volunteer's answer by chat or reaction: a check-in or a call for help, recorded as
/// "from chat". Every device applies it from the same event; only the device that started
/// the session posts the confirmation, so the room hears it once.
fn chat_answer(
    conn: &mut Connection,
    incoming: &Incoming,
    answer: ChatAnswer,
    about: Option<String>,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, about.as_deref())? {
        return Ok(Outcome::Nothing);
    }
    let (own_user, _) = outbox::account(&tx)?.unwrap_or_default();
    let who = short_name(incoming.sender);
    let mut changed = false;
    for row in sessions_for(&tx, incoming.room_id, incoming.sender, about)? {
        let posts = row.origin == "local" && row.owner == own_user;
        let by = if posts {
            format!("{who} (chat)")
        } else {
            format!("{FROM_TEAM}{who} (chat)")
        };
        match answer {
            ChatAnswer::CheckIn => {
                let done = checkins::check_in_in(&tx, row.id, incoming.at, &by);
                changed |= done.is_ok();
            }
            ChatAnswer::Help => {
                if help(
                    &tx,
                    row.id,
                    to_millis(incoming.at),
                    &format!("{who} (chat)"),
                )? {
                    changed = true;
                    if posts {
                        outbox::after_event(
                            &tx,
                            row.id,
                            "help",
                            incoming.at,
                            &format!("{who} (chat)"),
                        )?;
                    }
                }
            }
        }
    }
    tx.commit()?;
    Ok(if changed {
        Outcome::Changed
    } else {
        Outcome::Nothing
    })
}

/// A plain message in the room: a check-in or a call for help from a participant.
pub fn apply_message(
    conn: &mut Connection,
    incoming: &Incoming,
    content: &Value,
) -> rusqlite::Result<Outcome> {
    let body = content
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(answer) = chat::answer(body) else {
        return Ok(Outcome::Nothing);
    };
    let about = match chat::replied_to(content) {
        Some(event) => {
            let tx = conn.transaction()?;
            let session = session_of_event(&tx, &event)?;
            tx.commit()?;
            session
        }
        None => None,
    };
    chat_answer(conn, incoming, answer, about)
}

/// A reaction: 👍 on a reminder (or any post about a session) checks in for it.
pub fn apply_reaction(
    conn: &mut Connection,
    incoming: &Incoming,
    to_event: &str,
    key: &str,
) -> rusqlite::Result<Outcome> {
    if !chat::is_thumbs_up(key) {
        return Ok(Outcome::Nothing);
    }
    let tx = conn.transaction()?;
    let session = session_of_event(&tx, to_event)?;
    tx.commit()?;
    match session {
        Some(session) => chat_answer(conn, incoming, ChatAnswer::CheckIn, Some(session)),
        None => Ok(Outcome::Nothing),
    }
}

/// When a post this device made was seen by the server (for the Team screen).
pub fn last_seen(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let at: Option<i64> =
        conn.query_row("SELECT max(seen_at) FROM team_event_seen", [], |r| r.get(0))?;
    Ok(at.and_then(from_millis))
}
