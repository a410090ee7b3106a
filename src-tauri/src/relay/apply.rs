//! What arrives from the team room, turned into typed changes made by the sender the server
//! authenticated, and handed to `checkins`, which applies them under the same rules as a
//! button here. Nothing in a post is taken on trust: not a name, a time or a due time.
//!
//! Every event is applied once (by its event id), so the same room read twice changes
//! nothing; this device's own posts coming back are only noted.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::chat::{self, ChatAnswer};
use super::outbox::{self, TeamPosts};
use super::wire::{Wire, WireKind};
use crate::checkins::change::{self, Actor, SessionChange, Via, When};
use crate::checkins::shared::{self, Offered};
use crate::checkins::{self, CheckinError, NewSession};
use crate::time::{from_millis, to_millis};

/// Where an event came from.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub room_id: &'a str,
    pub event_id: &'a str,
    /// The sender, as the server authenticated them.
    pub sender: &'a str,
    /// The name the room shows for them.
    pub sender_name: &'a str,
    /// The server's time for the event: every device computes the same from it.
    pub at: DateTime<Utc>,
    /// This device sent it (its own post coming back).
    pub own: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Seen before, not for the app, or changing nothing.
    Nothing,
    /// A session changed here (or a refusal was noted on its page).
    Changed,
    /// Two copies of one "missed" post: `redact` names the copy this device sent and takes
    /// back, when it is not the one that stays.
    Duplicate { redact: Option<String> },
}

impl Outcome {
    /// `Changed` when something changed here, else `Nothing`.
    pub fn changed_if(changed: bool) -> Self {
        if changed {
            Outcome::Changed
        } else {
            Outcome::Nothing
        }
    }
}

impl From<checkins::Outcome> for Outcome {
    fn from(outcome: checkins::Outcome) -> Self {
        match outcome {
            checkins::Outcome::Unchanged => Outcome::Nothing,
            checkins::Outcome::Applied | checkins::Outcome::Ignored(_) => Outcome::Changed,
        }
    }
}

/// A failure of this device's own storage; a post that breaks no rule but is refused is not
/// one (it is noted on the session's page).
fn stored(result: Result<checkins::Outcome, CheckinError>) -> rusqlite::Result<Outcome> {
    match result {
        Ok(outcome) => Ok(outcome.into()),
        Err(CheckinError::Storage(crate::storage::StorageError::Sqlite(error))) => Err(error),
        Err(error) => {
            tracing::warn!("a post from the team room was not applied: {error}");
            Ok(Outcome::Nothing)
        }
    }
}

/// Records the event as seen; false if it already was. `app`: it carried the app's field.
pub(super) fn first_sight(
    conn: &Connection,
    incoming: &Incoming,
    key: Option<&str>,
    session: Option<&str>,
    app: bool,
) -> rusqlite::Result<bool> {
    let added = conn.execute(
        "INSERT OR IGNORE INTO team_event_seen (event_id, room_id, dedupe_key, session, sender, seen_at, app)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![incoming.event_id, incoming.room_id, key, session, incoming.sender, to_millis(incoming.at), app],
    )?;
    Ok(added == 1)
}

/// Forgets events read over `outbox::KEPT_FOR` ago, except each room's newest (a gap is
/// filled back to it) and each member's app's newest (it still reports missed check-ins).
/// Returns how many.
pub fn forget_old_events(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM team_event_seen
         WHERE seen_at < ?1
           AND rowid NOT IN (SELECT max(rowid) FROM team_event_seen GROUP BY room_id)
           AND rowid NOT IN (SELECT max(rowid) FROM team_event_seen WHERE app = 1
                             GROUP BY room_id, sender)",
        [outbox::kept_since(now)],
    )
}

fn member(incoming: &Incoming, via: Via) -> Actor {
    Actor::Member {
        user_id: incoming.sender.to_owned(),
        name: incoming.sender_name.to_owned(),
        via,
    }
}

fn me(conn: &Connection) -> rusqlite::Result<String> {
    Ok(outbox::account(conn)?
        .map(|(user, _)| user)
        .unwrap_or_default())
}

/// The change a post asks for, if it is one a device can make from the room.
fn change_of(wire: &Wire) -> Option<SessionChange> {
    Some(match wire.event {
        WireKind::CheckedIn => SessionChange::CheckIn {
            at: from_millis(wire.at)?,
        },
        WireKind::Snoozed => SessionChange::Snooze,
        WireKind::Extended => SessionChange::Extend {
            minutes: wire.minutes?,
        },
        WireKind::Missed => SessionChange::MissReported { due: wire.due_at? },
        WireKind::Acknowledged => SessionChange::Acknowledge,
        WireKind::Ended => SessionChange::End,
        WireKind::Help => SessionChange::Help {
            asked_at: from_millis(wire.at),
        },
        WireKind::Asked => SessionChange::AskCheckIn,
        WireKind::Started | WireKind::Reminder => return None,
    })
}

/// The session a "started" post offers, every field as sent.
fn offered(room: &str, wire: &Wire) -> Option<Offered> {
    let info = wire.info.as_ref()?;
    Some(Offered {
        uuid: wire.session.clone(),
        room: room.to_owned(),
        session: NewSession {
            kind: info.kind,
            mode: checkins::Mode::Watching,
            title: info.title.clone(),
            participants: info.participants.clone(),
            place: info.place.clone(),
            notes: info.notes.clone(),
            escalation: info.escalation.clone(),
            ends_at: wire.ends_at.and_then(from_millis),
            interval_minutes: info.interval_minutes,
            reminder_lead_minutes: 0,
            grace_minutes: info.grace_minutes,
        },
        started_at: from_millis(info.started_at)?,
        last_check_in_at: match info.last_check_in_at {
            Some(ms) => Some(from_millis(ms)?),
            None => None,
        },
        chat_members: info.chat_members.clone(),
    })
}

/// Applies a post carrying the app's field, at `now` on this device's clock.
pub fn apply_wire(
    conn: &mut Connection,
    incoming: &Incoming,
    wire: &Wire,
    now: DateTime<Utc>,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    let key = wire.dedupe_key();
    if let Some(key) = &key {
        let earlier: Option<(String, i64)> = tx
            .query_row(
                "SELECT event_id, seen_at FROM team_event_seen
                 WHERE dedupe_key = ?1 AND event_id <> ?2
                 ORDER BY seen_at, event_id LIMIT 1",
                params![key, incoming.event_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((earlier_id, earlier_at)) = earlier {
            let fresh = first_sight(&tx, incoming, None, Some(&wire.session), true)?;
            // The copy that stays is the first by the server's time, then by id, so every
            // device keeps the same one whatever order its server gave them (with two
            // servers federating, each has its own order). Its poster takes the other back.
            let incoming_stays =
                (to_millis(incoming.at), incoming.event_id) < (earlier_at, earlier_id.as_str());
            let (loser, loser_ours) = if incoming_stays {
                let ours = outbox::sent_post(&tx, &earlier_id)?.is_some();
                (earlier_id, ours)
            } else {
                let ours = outbox::sent_post(&tx, incoming.event_id)?.is_some() || incoming.own;
                (incoming.event_id.to_owned(), ours)
            };
            tx.commit()?;
            return Ok(if fresh && loser_ours {
                Outcome::Duplicate {
                    redact: Some(loser),
                }
            } else {
                Outcome::Nothing
            });
        }
    }
    if !first_sight(&tx, incoming, key.as_deref(), Some(&wire.session), true)? {
        return Ok(Outcome::Nothing);
    }
    if incoming.own {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let actor = member(incoming, Via::App);
    let when = When {
        at: incoming.at,
        now,
    };
    let outcome = match (wire.event, shared::find(&tx, &wire.session)?) {
        (WireKind::Started, None) => match offered(incoming.room_id, wire) {
            Some(offered) => stored(shared::track(&tx, &offered, &actor, when, &TeamPosts))?,
            None => Outcome::Nothing,
        },
        (_, None) => Outcome::Nothing,
        (_, Some(id)) => match change_of(wire) {
            Some(change) => stored(change::apply(
                &tx,
                id,
                &change,
                &actor,
                when,
                &me(&tx)?,
                &TeamPosts,
            ))?,
            None => Outcome::Nothing,
        },
    };
    tx.commit()?;
    Ok(outcome)
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

/// The running sessions in `room` an answer from chat is about: the one replied to, or else
/// those `sender` is out on (for "on it", those with an alarm open).
pub(super) fn sessions_for(
    tx: &Connection,
    room: &str,
    sender: &str,
    about: Option<String>,
    answer: &ChatAnswer,
) -> rusqlite::Result<Vec<i64>> {
    if let Some(uuid) = about {
        return Ok(shared::find(tx, &uuid)?.into_iter().collect());
    }
    let candidates: Vec<(i64, String, String, bool)> = tx
        .prepare(
            "SELECT id, owner, chat_members,
                    coalesce((help_at IS NOT NULL OR missed_for = next_due_at)
                             AND acknowledged_at IS NULL, 0)
             FROM checkin_session WHERE team_room = ?1 AND ended_at IS NULL",
        )?
        .query_map([room], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(candidates
        .into_iter()
        .filter(|(_, owner, members, alarm)| match answer {
            ChatAnswer::OnIt => *alarm,
            _ => {
                owner == sender
                    || serde_json::from_str::<Vec<String>>(members)
                        .unwrap_or_default()
                        .iter()
                        .any(|m| m == sender)
            }
        })
        .map(|(id, ..)| id)
        .collect())
}

/// A volunteer's answer by chat or reaction: a check-in, a call for help, or "on it"; and,
/// when the message held the team's duress word, the silent alarm after the answer.
fn chat_answer(
    conn: &mut Connection,
    incoming: &Incoming,
    answer: Option<ChatAnswer>,
    about: Option<String>,
    duress: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    if !first_sight(&tx, incoming, None, about.as_deref(), false)? || incoming.own {
        tx.commit()?;
        return Ok(Outcome::Nothing);
    }
    let actor = member(incoming, Via::Chat);
    let when = When {
        at: incoming.at,
        now,
    };
    let me = me(&tx)?;
    let mut changed = false;
    if let Some(answer) = &answer {
        let change = match answer {
            ChatAnswer::CheckIn => SessionChange::CheckIn { at: incoming.at },
            ChatAnswer::Help => SessionChange::Help {
                asked_at: Some(incoming.at),
            },
            ChatAnswer::OnIt => SessionChange::Acknowledge,
        };
        for id in sessions_for(
            &tx,
            incoming.room_id,
            incoming.sender,
            about.clone(),
            answer,
        )? {
            let result = change::apply(&tx, id, &change, &actor, when, &me, &TeamPosts);
            changed |= stored(result)? == Outcome::Changed;
        }
    }
    if duress {
        let out_on = sessions_for(
            &tx,
            incoming.room_id,
            incoming.sender,
            about,
            &ChatAnswer::CheckIn,
        )?;
        changed |= super::duress::raise(
            &tx,
            incoming,
            &out_on,
            change::DuressHow::Word,
            Via::Chat,
            now,
        )?;
    }
    tx.commit()?;
    Ok(Outcome::changed_if(changed))
}

/// A plain message in the room: a check-in, a call for help or "on it" from a member.
pub fn apply_message(
    conn: &mut Connection,
    incoming: &Incoming,
    content: &Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<Outcome> {
    let body = content
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let replied = chat::replied_to(content);
    let answer = chat::answer(body);
    let duress = super::duress::holds_word(conn, incoming.room_id, body)?;
    if answer.is_none() && !duress {
        return Ok(Outcome::Nothing);
    }
    let about = match replied {
        Some(event) => {
            let tx = conn.transaction()?;
            let session = session_of_event(&tx, &event)?;
            tx.commit()?;
            session
        }
        None => None,
    };
    chat_answer(conn, incoming, answer, about, duress, now)
}

/// A reaction: 👍 on a reminder (or any post about a session) checks in for it.
pub fn apply_reaction(
    conn: &mut Connection,
    incoming: &Incoming,
    to_event: &str,
    key: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Outcome> {
    if !chat::is_thumbs_up(key) {
        return Ok(Outcome::Nothing);
    }
    let tx = conn.transaction()?;
    let session = session_of_event(&tx, to_event)?;
    tx.commit()?;
    match session {
        Some(session) => chat_answer(
            conn,
            incoming,
            Some(ChatAnswer::CheckIn),
            Some(session),
            false,
            now,
        ),
        None => Ok(Outcome::Nothing),
    }
}

/// Any event of a team room, once read: a later gap is filled back to it, and no further.
pub fn note_seen(conn: &Connection, incoming: &Incoming) -> rusqlite::Result<()> {
    first_sight(conn, incoming, None, None, false).map(drop)
}

/// A member's app announced itself: it takes part in reporting missed check-ins.
pub fn note_presence(conn: &mut Connection, incoming: &Incoming) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction()?;
    first_sight(&tx, incoming, None, None, true)?;
    tx.commit()?;
    Ok(Outcome::Nothing)
}

/// When a post this device made was seen by the server (for the Team screen).
pub fn last_seen(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let at: Option<i64> =
        conn.query_row("SELECT max(seen_at) FROM team_event_seen", [], |r| r.get(0))?;
    Ok(at.and_then(from_millis))
}
