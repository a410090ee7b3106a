//! Posts waiting to go to the team room, in SQLite. A local change to a shared session and
//! its post are written in one transaction; the network side sends them in order and marks
//! them sent, or drops a "missed" that is no longer true (the session was checked in, or
//! another device already posted it).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::wire::{self, SharedSession, Wire, WireKind, VERSION};
use crate::checkins::change::Recorded;
use crate::checkins::{shared, short_name, Actor, SessionSink, Via};
use crate::time::{from_millis, to_millis};

/// This device's Matrix user and device, if signed in.
pub fn account(conn: &Connection) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row("SELECT user_id, device_id FROM team_account", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// The step between devices in the order that reports a missed check-in: the account's
/// setting (4 s unless a test sets another).
fn rank_step(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row("SELECT missed_hold_ms FROM team_account", [], |r| r.get(0))
        .optional()?
        .unwrap_or(DEFAULT_RANK_STEP_MS)
        .clamp(0, 60_000))
}

const DEFAULT_RANK_STEP_MS: i64 = 4_000;

fn hash(parts: &[&str]) -> u64 {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    u64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
}

/// How long this device waits before posting "missed" for a due time, so that the device
/// ranked before it posts first and it posts only if that one does not: the session's owner
/// first, then every member whose app has posted in the room, in an order every device works
/// out the same way from the session and the due time. Devices of one user are set apart by
/// a little more. Every device computes the same ranks, so the room gets one post.
pub fn missed_hold(
    conn: &Connection,
    room: &str,
    owner: &str,
    uuid: &str,
    due_at: i64,
) -> rusqlite::Result<i64> {
    let Some((me, device)) = account(conn)? else {
        return Ok(0);
    };
    let step = rank_step(conn)?;
    if step == 0 {
        return Ok(0);
    }
    let key = wire::missed_key(uuid, due_at);
    let mut posters: Vec<String> = conn
        .prepare_cached(
            "SELECT DISTINCT sender FROM team_event_seen WHERE room_id = ?1 AND app = 1",
        )?
        .query_map([room], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if !posters.contains(&me) {
        posters.push(me.clone());
    }
    posters.sort_by_key(|user| (user != owner, hash(&[&key, user])));
    let rank = posters
        .iter()
        .position(|user| *user == me)
        .unwrap_or(posters.len()) as i64;
    let own = (hash(&[&key, &device]) % (step as u64 / 2).max(1)) as i64;
    Ok(rank.saturating_mul(step).saturating_add(own))
}

/// Check-in changes, as posts to the team: implements the check-ins' sink. A change made on
/// this device goes to the team; one heard from the room is not posted back, except the
/// confirmation of a chat check-in or a call for help on a session started here (so Element
/// users see it answered once).
pub struct TeamPosts;

impl SessionSink for TeamPosts {
    fn recorded(&self, tx: &Connection, change: &Recorded) -> rusqlite::Result<()> {
        let Some(facts) = shared::facts(tx, change.session_id)? else {
            return Ok(());
        };
        let (user, _) = account(tx)?.unwrap_or_default();
        let here = matches!(change.actor, Actor::Here(_) | Actor::Scheduler);
        let answered_on_ours = facts.ours
            && matches!(change.actor, Actor::Member { via: Via::Chat, .. })
            && matches!(change.kind, "checked_in" | "help");
        if !here && !answered_on_ours {
            return Ok(());
        }
        // A silent alarm is never mentioned in the room: its acknowledgement goes to the app
        // devices only, hidden.
        if change.kind == "duress_acknowledged" {
            return super::duress::enqueue_signal(
                tx,
                &facts.room,
                &facts.uuid,
                "acknowledged",
                change.at,
            );
        }
        let event = match change.kind {
            "shared" => WireKind::Started,
            "checked_in" => WireKind::CheckedIn,
            "snoozed" => WireKind::Snoozed,
            "extended" => WireKind::Extended,
            "acknowledged" => WireKind::Acknowledged,
            "ended_safe" => WireKind::Ended,
            "help" => WireKind::Help,
            "missed" => WireKind::Missed,
            "asked" => WireKind::Asked,
            // Each device reminds only for the sessions it started.
            "reminder_sent" if facts.ours => WireKind::Reminder,
            _ => return Ok(()),
        };
        let (by, how) = match change.actor {
            Actor::Member { name, .. } => (name.clone(), "chat"),
            Actor::Here(Via::Notification) => (short_name(&user), "notification"),
            Actor::Scheduler => (short_name(&user), "automatic"),
            Actor::Here(_) => (short_name(&user), "app"),
        };
        let wire = Wire {
            v: VERSION,
            event,
            session: facts.uuid.clone(),
            at: to_millis(change.at),
            by,
            how: Some(how.into()),
            due_at: change.due_at,
            next_due_at: Some(facts.next_due_at),
            ends_at: Some(facts.ends_at),
            minutes: change.minutes,
            info: (event == WireKind::Started).then(|| SharedSession {
                kind: facts.kind,
                title: facts.title.clone(),
                participants: facts.participants.clone(),
                place: facts.place.clone(),
                notes: facts.notes.clone(),
                escalation: facts.escalation.clone(),
                interval_minutes: facts.interval_minutes,
                grace_minutes: facts.grace_minutes,
                started_at: facts.started_at,
                chat_members: facts.chat_members.clone(),
                last_check_in_at: facts.last_check_in_at,
            }),
        };
        let hold = match (event, change.due_at) {
            (WireKind::Missed, Some(due)) => {
                missed_hold(tx, &facts.room, &facts.owner, &facts.uuid, due)?
            }
            _ => 0,
        };
        let mut content = wire::message(&wire, &facts);
        if matches!(event, WireKind::Missed | WireKind::Help) {
            let location = crate::locations::last_known(tx, change.session_id)?;
            wire::add_location(&mut content, location.as_ref(), change.at);
        }
        enqueue(tx, &facts.room, &wire, content, to_millis(change.at), hold)
    }
}

fn enqueue(
    conn: &Connection,
    room: &str,
    wire: &Wire,
    content: Value,
    at: i64,
    hold_ms: i64,
) -> rusqlite::Result<()> {
    let kind = serde_json::to_value(wire.event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    conn.execute(
        "INSERT INTO team_outbox (room_id, kind, session, due_at, content, not_before, created_at, hold_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            room,
            kind,
            wire.session,
            wire.due_at,
            content.to_string(),
            at.saturating_add(hold_ms),
            at,
            hold_ms
        ],
    )?;
    Ok(())
}

/// The event type an app device announces itself with in a team room: encrypted like every
/// post, and not shown by Element. It lets every device know which members' apps take part
/// in reporting a missed check-in, so all rank them the same way.
pub const PRESENCE_TYPE: &str = "uk.campaignsafe.presence";

/// Queues this device's announcement in `room`, unless it has one there already.
pub fn announce_presence(
    conn: &Connection,
    room: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    announce(conn, room, now, true)
}

/// Someone joined `room`: what was announced before is encrypted to the members of then, so
/// this device announces itself again for the newcomer (unless an announcement still waits).
pub fn announce_presence_to_newcomers(
    conn: &Connection,
    room: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    announce(conn, room, now, false)
}

fn announce(
    conn: &Connection,
    room: &str,
    now: DateTime<Utc>,
    unless_seen: bool,
) -> rusqlite::Result<()> {
    let Some((me, _)) = account(conn)? else {
        return Ok(());
    };
    let known: bool = conn.query_row(
        "SELECT (?3 AND EXISTS (SELECT 1 FROM team_event_seen
                                 WHERE room_id = ?1 AND sender = ?2 AND app = 1))
             OR EXISTS (SELECT 1 FROM team_outbox WHERE room_id = ?1 AND kind = 'presence'
                        AND sent_at IS NULL AND dropped IS NULL)",
        params![room, me, unless_seen],
        |r| r.get(0),
    )?;
    if !known {
        conn.execute(
            "INSERT INTO team_outbox (room_id, kind, content, not_before, created_at)
             VALUES (?1, 'presence', ?2, ?3, ?3)",
            params![
                room,
                serde_json::json!({ "v": 1 }).to_string(),
                to_millis(now)
            ],
        )?;
    }
    Ok(())
}

/// Back in touch after an outage: every "missed" still waiting goes out only after the
/// others had time to come back and post theirs, each device in its rank.
pub fn hold_missed_after_reconnect(
    conn: &Connection,
    now: DateTime<Utc>,
    settle_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE team_outbox SET not_before = max(not_before, ?1 + hold_ms)
         WHERE kind = 'missed' AND sent_at IS NULL AND dropped IS NULL",
        [to_millis(now).saturating_add(settle_ms)],
    )?;
    Ok(())
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

/// How long posts sent, and events read, are kept: far longer than anything still needs them
/// (copies of a post, replies to a reminder, a gap to fill come within hours or days), and
/// short enough that a season's traffic does not pile up in the record.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::days(30);

/// The earliest time still kept at `now`.
pub(super) fn kept_since(now: DateTime<Utc>) -> i64 {
    to_millis(now.checked_sub_signed(KEPT_FOR).unwrap_or(now))
}

/// Forgets posts sent or dropped over KEPT_FOR ago, except each room's newest of each kind
/// (when a record's head was last witnessed is read from it). Returns how many.
pub fn forget_old_posts(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM team_outbox
         WHERE created_at < ?1 AND (sent_at IS NOT NULL OR dropped IS NOT NULL)
           AND id NOT IN (SELECT max(id) FROM team_outbox WHERE sent_at IS NOT NULL
                          GROUP BY room_id, kind)",
        [kept_since(now)],
    )
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
        [wire::missed_key(session, due)],
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
