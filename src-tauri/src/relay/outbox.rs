//! Posts waiting to go to the team room, in SQLite. A local change to a shared session and
//! its post are written in one transaction; the network side sends them in order and marks
//! them sent, or drops a "missed" that is no longer true (the session was checked in, or
//! another device already posted it).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::wire::{self, SharedSession, Wire, WireKind, VERSION};
use crate::checkins::{EscalationContact, Kind};
use crate::time::{from_millis, to_millis};

/// Who did it, in a session's timeline, when the change came from the team room: such
/// changes are never posted back.
pub const FROM_TEAM: &str = "team:";

/// The shared-session facts a post needs.
struct Shared {
    room: String,
    uuid: String,
    origin: String,
    owner: String,
    title: String,
    participants: Vec<String>,
    chat_members: Vec<String>,
    next_due_at: i64,
    ends_at: i64,
}

fn shared(conn: &Connection, session_id: i64) -> rusqlite::Result<Option<Shared>> {
    conn.query_row(
        "SELECT team_room, team_session, origin, owner, title, participants, chat_members, next_due_at, ends_at
         FROM checkin_session WHERE id = ?1 AND team_room IS NOT NULL",
        [session_id],
        |r| {
            let list = |i| r.get::<_, String>(i).map(|t| serde_json::from_str(&t).unwrap_or_default());
            Ok(Shared {
                room: r.get(0)?,
                uuid: r.get(1)?,
                origin: r.get(2)?,
                owner: r.get(3)?,
                title: r.get(4)?,
                participants: list(5)?,
                chat_members: list(6)?,
                next_due_at: r.get(7)?,
                ends_at: r.get(8)?,
            })
        },
    )
    .optional()
}

/// This device's Matrix user and device, if signed in.
pub fn account(conn: &Connection) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row("SELECT user_id, device_id FROM team_account", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// How long a device that did not start a session waits before posting "missed" for it, so
/// the first post is seen first and the room gets one: the account's setting (2 s unless a
/// test sets 0), plus up to 3 s of the device's own.
fn missed_hold(conn: &Connection, device: &str) -> rusqlite::Result<i64> {
    let base: i64 = conn
        .query_row("SELECT missed_hold_ms FROM team_account", [], |r| r.get(0))
        .optional()?
        .unwrap_or(2_000);
    let own: u64 = device
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    Ok(if base == 0 {
        0
    } else {
        base + (own % 3_000) as i64
    })
}

/// "@sam:example.org" as people say it: "sam".
pub fn short_name(user_id: &str) -> String {
    user_id
        .trim_start_matches('@')
        .split(':')
        .next()
        .unwrap_or(user_id)
        .to_owned()
}

/// Called by `checkins` for every event it writes, inside the same transaction: queues the
/// post for a shared session. Changes that came from the room (`by` starting with
/// [`FROM_TEAM`]) are not posted back.
pub fn after_event(
    conn: &Connection,
    session_id: i64,
    kind: &str,
    at: DateTime<Utc>,
    by: &str,
) -> rusqlite::Result<()> {
    if by.starts_with(FROM_TEAM) {
        return Ok(());
    }
    let Some(session) = shared(conn, session_id)? else {
        return Ok(());
    };
    let own_session = session.origin == "local";
    let event = match kind {
        "checked_in" => WireKind::CheckedIn,
        "snoozed" => WireKind::Snoozed,
        "extended" => WireKind::Extended,
        "acknowledged" => WireKind::Acknowledged,
        "ended_safe" => WireKind::Ended,
        "help" => WireKind::Help,
        "missed" => WireKind::Missed,
        // Each device reminds only for the sessions it started.
        "reminder_sent" if own_session => WireKind::Reminder,
        _ => return Ok(()),
    };
    let (user, device) = account(conn)?.unwrap_or_default();
    let how = match by {
        "notification" => "notification",
        "scheduler" => "automatic",
        b if b.ends_with("(chat)") => "chat",
        _ => "app",
    };
    let who = if how == "chat" {
        by.trim_end_matches(" (chat)").to_owned()
    } else {
        short_name(&user)
    };
    // For "missed" and "reminder" the due time is the one the alert was for: the session's
    // current due time, which the change did not move.
    let due_at = matches!(
        event,
        WireKind::Missed | WireKind::Reminder | WireKind::Acknowledged
    )
    .then_some(session.next_due_at);
    let wire = Wire {
        v: VERSION,
        event,
        session: session.uuid.clone(),
        at: to_millis(at),
        by: who,
        how: Some(how.into()),
        due_at,
        next_due_at: Some(session.next_due_at),
        ends_at: Some(session.ends_at),
        info: None,
    };
    let hold = if event == WireKind::Missed && !(own_session && session.owner == user) {
        missed_hold(conn, &device)?
    } else {
        0
    };
    let content = wire::message(
        &wire,
        &session.title,
        &session.participants,
        &session.chat_members,
    );
    enqueue(conn, &session.room, &wire, content, to_millis(at) + hold)
}

fn enqueue(
    conn: &Connection,
    room: &str,
    wire: &Wire,
    content: Value,
    not_before: i64,
) -> rusqlite::Result<()> {
    let kind = serde_json::to_value(wire.event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    conn.execute(
        "INSERT INTO team_outbox (room_id, kind, session, due_at, content, not_before, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            room,
            kind,
            wire.session,
            wire.due_at,
            content.to_string(),
            not_before,
            wire.at
        ],
    )?;
    Ok(())
}

/// Shares an active session with the team in `room`: every member's device will track it.
/// Returns the session's shared id.
pub fn share(
    conn: &mut Connection,
    session_id: i64,
    room: &str,
    chat_members: &[String],
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<String>> {
    let tx = conn.transaction()?;
    let (user, _) = account(&tx)?.unwrap_or_default();
    let row = tx
        .query_row(
            "SELECT kind, title, participants, place, notes, escalation, interval_min, grace_min,
                    started_at, ends_at, next_due_at, team_session
             FROM checkin_session WHERE id = ?1 AND ended_at IS NULL AND origin = 'local'",
            [session_id],
            |r| {
                let list = |i| {
                    r.get::<_, String>(i)
                        .map(|t| serde_json::from_str::<Value>(&t).unwrap_or_default())
                };
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    list(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    list(5)?,
                    r.get::<_, Option<u32>>(6)?,
                    r.get::<_, u32>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, i64>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ))
            },
        )
        .optional()?;
    let Some((
        kind,
        title,
        participants,
        place,
        notes,
        escalation,
        interval,
        grace,
        started,
        ends,
        next_due,
        existing,
    )) = row
    else {
        return Ok(None);
    };
    if let Some(uuid) = existing {
        return Ok(Some(uuid));
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "UPDATE checkin_session SET team_room = ?2, team_session = ?3, owner = ?4, chat_members = ?5 WHERE id = ?1",
        params![session_id, room, uuid, user, serde_json::to_string(chat_members).unwrap_or_default()],
    )?;
    let participants: Vec<String> = serde_json::from_value(participants).unwrap_or_default();
    let info = SharedSession {
        kind: serde_json::from_value(Value::String(kind)).unwrap_or(Kind::Canvass),
        title: title.clone(),
        participants: participants.clone(),
        place,
        notes,
        escalation: serde_json::from_value::<Vec<EscalationContact>>(escalation)
            .unwrap_or_default(),
        interval_minutes: interval,
        grace_minutes: grace,
        started_at: started,
        chat_members: chat_members.to_vec(),
    };
    let wire = Wire {
        v: VERSION,
        event: WireKind::Started,
        session: uuid.clone(),
        at: to_millis(now),
        by: short_name(&user),
        how: Some("app".into()),
        due_at: None,
        next_due_at: Some(next_due),
        ends_at: Some(ends),
        info: Some(info),
    };
    let content = wire::message(&wire, &title, &participants, chat_members);
    enqueue(&tx, room, &wire, content, to_millis(now))?;
    tx.commit()?;
    Ok(Some(uuid))
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub room_id: String,
    pub kind: String,
    pub session: Option<String>,
    pub due_at: Option<i64>,
    pub content: Value,
}

impl Pending {
    /// The transaction id the post is sent with: a retry after a crash is the same post.
    pub fn transaction_id(&self) -> String {
        format!("campaign-safe-{}", self.id)
    }
}

/// What may go out now, oldest first.
pub fn ready(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, room_id, kind, session, due_at, content FROM team_outbox
         WHERE sent_at IS NULL AND dropped IS NULL AND not_before <= ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([to_millis(now)], |r| {
        Ok(Pending {
            id: r.get(0)?,
            room_id: r.get(1)?,
            kind: r.get(2)?,
            session: r.get(3)?,
            due_at: r.get(4)?,
            content: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
        })
    })?;
    rows.collect()
}

/// When the next held post may go, if one is waiting.
pub fn next_hold(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = conn.query_row(
        "SELECT min(not_before) FROM team_outbox WHERE sent_at IS NULL AND dropped IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(at.and_then(from_millis))
}

/// Posts not yet sent (for the Team screen).
pub fn waiting(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM team_outbox WHERE sent_at IS NULL AND dropped IS NULL",
        [],
        |r| r.get(0),
    )
}

/// A "missed" that is no longer true is not sent: returns why, and marks it dropped.
pub fn drop_if_stale(conn: &Connection, post: &Pending) -> rusqlite::Result<Option<&'static str>> {
    if post.kind != "missed" {
        return Ok(None);
    }
    let (Some(session), Some(due)) = (&post.session, post.due_at) else {
        return Ok(None);
    };
    let still_due: bool = conn
        .query_row(
            "SELECT ended_at IS NULL AND next_due_at = ?2 FROM checkin_session WHERE team_session = ?1",
            params![session, due],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    let posted_by_another: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM team_event_seen WHERE dedupe_key = ?1)",
        [format!("missed:{session}:{due}")],
        |r| r.get(0),
    )?;
    let why = if !still_due {
        Some("no longer due: checked in, extended or ended first")
    } else if posted_by_another {
        Some("another device posted it first")
    } else {
        None
    };
    if let Some(why) = why {
        conn.execute(
            "UPDATE team_outbox SET dropped = ?2 WHERE id = ?1",
            params![post.id, why],
        )?;
    }
    Ok(why)
}

pub fn mark_sent(
    conn: &Connection,
    id: i64,
    event_id: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE team_outbox SET sent_at = ?2, event_id = ?3, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
        params![id, to_millis(now), event_id],
    )?;
    Ok(())
}

pub fn mark_failed(conn: &Connection, id: i64, error: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE team_outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
        params![id, error],
    )?;
    Ok(())
}

/// A post of ours, by the event id the server gave it.
pub fn sent_post(
    conn: &Connection,
    event_id: &str,
) -> rusqlite::Result<Option<(i64, Option<String>)>> {
    conn.query_row(
        "SELECT id, session FROM team_outbox WHERE event_id = ?1",
        [event_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}
