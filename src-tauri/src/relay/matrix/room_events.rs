//! The events of a team room, in the room's order, with nothing left out: after each sync,
//! the new events of every team room are applied in order, and when the server sent only the
//! latest ones (a "limited" timeline: after an outage, a restart, or a burst) the events in
//! between are fetched first, back to the last one this device has seen.
//!
//! Each event is applied with its sender as the server authenticated it, the name the room
//! shows for them, and whether this device sent it (its own posts coming back).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind};
use matrix_sdk::room::{MessagesOptions, Room};
use matrix_sdk::ruma::{EventId, UInt};
use serde_json::Value;

use super::{unreadable, TeamService};
use crate::changes::Changed;
use crate::relay::apply::{self, Incoming, Outcome};
use crate::relay::{duress, register, whereabouts, wire};
use crate::storage::Database;
use crate::time::from_millis;

/// Events fetched per request when filling a gap: small first (most gaps are short, and every
/// event fetched is decrypted), then larger.
const PAGES: [u32; 4] = [40, 100, 250, 500];
/// The most a gap is filled by at once: a device away for weeks reads the rest as it comes.
const MOST_BEHIND: usize = 20_000;

/// What the relay needs of one event.
#[derive(Debug, Clone)]
pub(super) struct Heard {
    event_id: String,
    sender: String,
    sender_name: String,
    at: DateTime<Utc>,
    own: bool,
    kind: HeardKind,
}

#[derive(Debug, Clone)]
enum HeardKind {
    Message(Value),
    Reaction {
        to: String,
        key: String,
    },
    /// A member's app announcing itself.
    Presence,
    /// Someone joined the room.
    Joined,
    /// A member's device posted its record's head (issue 24).
    RecordHead(Value),
    /// A team's duress word, from another app device.
    DuressWord(Value),
    /// A silent alarm raised (duress PIN) or acknowledged on another app device.
    DuressSignal(Value),
    /// A position from a member's live location.
    Beacon(Value),
    /// A member started or stopped sharing live location.
    BeaconInfo {
        state_key: String,
        content: Value,
    },
    /// Anything else: only noted as read.
    Other,
}

/// What the relay needs of `event`; None only if it lacks an id, a sender or a time. An
/// event of no kind the relay applies (a redaction, an edit, a post taken back before this
/// device read it) is still heard, as `Other`, so that it is noted as read.
fn heard(event: &TimelineEvent, me: &str, my_device: &str) -> Option<Heard> {
    let json: Value = serde_json::from_str(event.raw().json().get()).ok()?;
    let sender = json.get("sender")?.as_str()?.to_owned();
    // This device's own: sent with its keys, or (unencrypted) with its transaction id.
    let by_this_device = event
        .encryption_info()
        .is_some_and(|info| info.sender_device.as_deref().map(|d| d.as_str()) == Some(my_device));
    let with_our_transaction = json.pointer("/unsigned/transaction_id").is_some();
    Some(Heard {
        event_id: json.get("event_id")?.as_str()?.to_owned(),
        own: sender == me && (by_this_device || with_our_transaction),
        sender_name: String::new(),
        sender,
        at: from_millis(json.get("origin_server_ts")?.as_i64()?)?,
        kind: kind_of(&json).unwrap_or(HeardKind::Other),
    })
}

/// The kind of an event the relay applies, if it is one and has what that kind needs.
fn kind_of(json: &Value) -> Option<HeardKind> {
    let content = json.get("content")?.clone();
    Some(match json.get("type")?.as_str()? {
        "m.room.message" => HeardKind::Message(content),
        crate::relay::outbox::PRESENCE_TYPE => HeardKind::Presence,
        crate::relay::witness::HEAD_TYPE => HeardKind::RecordHead(content),
        duress::WORD_TYPE => HeardKind::DuressWord(content),
        duress::SIGNAL_TYPE => HeardKind::DuressSignal(content),
        "m.room.member" if content.get("membership").and_then(Value::as_str) == Some("join") => {
            HeardKind::Joined
        }
        kind if whereabouts::BEACON_TYPES.contains(&kind) => HeardKind::Beacon(content),
        kind if whereabouts::BEACON_INFO_TYPES.contains(&kind) => HeardKind::BeaconInfo {
            state_key: json.get("state_key")?.as_str()?.to_owned(),
            content,
        },
        "m.reaction" => {
            let relates = content.get("m.relates_to")?;
            HeardKind::Reaction {
                to: relates.get("event_id")?.as_str()?.to_owned(),
                key: relates.get("key")?.as_str()?.to_owned(),
            }
        }
        _ => return None,
    })
}

/// Whether `event` is `user` joining the room.
fn is_join_of(event: &TimelineEvent, user: &str) -> bool {
    let raw = event.raw();
    raw.get_field::<String>("type").ok().flatten().as_deref() == Some("m.room.member")
        && raw
            .get_field::<String>("state_key")
            .ok()
            .flatten()
            .as_deref()
            == Some(user)
        && raw
            .get_field::<Value>("content")
            .ok()
            .flatten()
            .and_then(|content| {
                content
                    .get("membership")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .as_deref()
            == Some("join")
}

/// Whether this device has already applied the event with id `event_id`.
fn seen(database: &Database, event_id: &str) -> bool {
    database
        .reader()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM team_event_seen WHERE event_id = ?1)",
            [event_id],
            |r| r.get(0),
        )
        .unwrap_or(false)
}

/// The events between `prev_batch` and the last one this device saw, oldest first.
async fn fill_gap(
    service: &TeamService,
    room: &Room,
    prev_batch: Option<String>,
) -> Vec<TimelineEvent> {
    let mut from = prev_batch;
    let mut missing: Vec<TimelineEvent> = Vec::new();
    let mut page_number = 0;
    'pages: while missing.len() < MOST_BEHIND {
        let mut options = MessagesOptions::backward();
        options.from = from.clone();
        options.limit = UInt::from(PAGES[page_number.min(PAGES.len() - 1)]);
        page_number += 1;
        let page = match room.messages(options).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(
                    "the events missed in a team room could not all be fetched: {error}"
                );
                break;
            }
        };
        for event in page.chunk {
            let known = event
                .event_id()
                .is_some_and(|id| seen(&service.database, id.as_str()));
            if known {
                break 'pages;
            }
            missing.push(event);
        }
        match page.end {
            Some(end) if from.as_deref() != Some(end.as_str()) => from = Some(end),
            _ => break,
        }
    }
    if missing.len() >= MOST_BEHIND {
        tracing::warn!(room = %room.room_id(), "a team room was too far behind to read all at once");
    }
    missing.reverse();
    tracing::info!(room = %room.room_id(), events = missing.len(), "caught up on a team room");
    missing
}

/// Applies the new events of one team room, after filling the gap before them if the server
/// left one. Returns once they are all applied.
pub(super) async fn apply_room(
    service: &Arc<TeamService>,
    room: &Room,
    limited: bool,
    prev_batch: Option<String>,
    latest: Vec<TimelineEvent>,
) {
    let Some((me, my_device)) = service.account() else {
        return;
    };
    let mut events = if limited {
        fill_gap(service, room, prev_batch).await
    } else {
        Vec::new()
    };
    events.extend(latest);
    let room_id = room.room_id().to_owned();
    let now = service.clock.now();
    // What was said before this device's user joined was never meant for it: unreadable
    // posts from then are not waited for.
    let my_join = events.iter().rposition(|event| is_join_of(event, &me));
    let mut newly_unreadable = Vec::new();
    let mut batch: Vec<Heard> = events
        .iter()
        .enumerate()
        .filter(|(index, event)| {
            if my_join.is_some_and(|join| *index < join) {
                return !matches!(event.kind, TimelineEventKind::UnableToDecrypt { .. });
            }
            match service.unreadable.keep_if_unreadable(&room_id, event, now) {
                unreadable::Kept::Readable => true,
                unreadable::Kept::Again => false,
                unreadable::Kept::New { sender, sent_at } => {
                    newly_unreadable.push((sender, sent_at));
                    false
                }
            }
        })
        .filter_map(|(_, event)| heard(event, &me, &my_device))
        .collect();
    if !newly_unreadable.is_empty() {
        unreadable::tell(service, &room_id, newly_unreadable);
    }
    if batch.is_empty() {
        return;
    }
    // The names the room shows, looked up once per sender.
    let mut names: HashMap<String, String> = HashMap::new();
    for event in &mut batch {
        if !names.contains_key(&event.sender) {
            let name = match matrix_sdk::ruma::UserId::parse(event.sender.as_str()) {
                Ok(user) => super::roster::name_in(room, &user).await,
                Err(_) => super::client::shown_name(&crate::checkins::short_name(&event.sender)),
            };
            names.insert(event.sender.clone(), name);
        }
        event.sender_name = names[&event.sender].clone();
    }
    let (database, clock, room_id, me_in_batch) = (
        service.database.clone(),
        service.clock.clone(),
        room.room_id().to_string(),
        me.clone(),
    );
    let applying = std::time::Instant::now();
    let count = batch.len();
    let applied = tokio::task::spawn_blocking(move || {
        let mut conn = database.conn();
        let mut outcomes = Vec::with_capacity(batch.len());
        for event in &batch {
            let incoming = Incoming {
                room_id: &room_id,
                event_id: &event.event_id,
                sender: &event.sender,
                sender_name: &event.sender_name,
                at: event.at.min(clock.now()),
                own: event.own,
            };
            let now = clock.now();
            let (outcome, doors) = match &event.kind {
                HeardKind::Message(content) => {
                    if let Some(post) = wire::read(content) {
                        (apply::apply_wire(&mut conn, &incoming, &post, now), false)
                    } else if let Some(pin) = whereabouts::pin(content) {
                        (
                            whereabouts::apply_location(&mut conn, &incoming, pin, false),
                            false,
                        )
                    } else if let Some(post) = register::read(content) {
                        (register::apply(&mut conn, &incoming, &post), true)
                    } else {
                        (
                            apply::apply_message(&mut conn, &incoming, content, now),
                            false,
                        )
                    }
                }
                HeardKind::Reaction { to, key } => (
                    apply::apply_reaction(&mut conn, &incoming, to, key, now),
                    false,
                ),
                HeardKind::Presence => (apply::note_presence(&mut conn, &incoming), false),
                HeardKind::DuressWord(content) => {
                    (duress::note_word(&mut conn, &incoming, content), false)
                }
                HeardKind::DuressSignal(content) => (
                    duress::apply_signal(&mut conn, &incoming, content, now),
                    false,
                ),
                HeardKind::Beacon(content) => match whereabouts::beacon(content) {
                    Some(position) => (
                        whereabouts::apply_location(&mut conn, &incoming, position, true),
                        false,
                    ),
                    None => (Ok(Outcome::Nothing), false),
                },
                HeardKind::BeaconInfo { state_key, content } => {
                    match whereabouts::beacon_info(content) {
                        Some(info) => (
                            whereabouts::apply_sharing(&mut conn, &incoming, state_key, &info),
                            false,
                        ),
                        None => (Ok(Outcome::Nothing), false),
                    }
                }
                HeardKind::RecordHead(content) => (
                    crate::relay::witness::note(&conn, &incoming, content, now),
                    false,
                ),
                // A newcomer cannot read what was announced before it joined.
                HeardKind::Joined if event.sender != me_in_batch => {
                    let queued =
                        crate::relay::outbox::announce_presence_to_newcomers(&conn, &room_id, now);
                    (queued.map(|()| Outcome::Nothing), false)
                }
                HeardKind::Joined | HeardKind::Other => (Ok(Outcome::Nothing), false),
            };
            if let Err(error) = apply::note_seen(&conn, &incoming) {
                tracing::warn!("could not note a team event as read: {error}");
            }
            match outcome {
                Ok(outcome) => outcomes.push((event.event_id.clone(), outcome, doors)),
                Err(error) => tracing::error!("could not apply a team event: {error}"),
            }
        }
        outcomes
    })
    .await
    .unwrap_or_default();
    tracing::debug!(events = count, elapsed = ?applying.elapsed(), "team events applied");

    let sessions = applied
        .iter()
        .any(|(_, outcome, doors)| *outcome == Outcome::Changed && !doors);
    let doors = applied
        .iter()
        .any(|(_, outcome, doors)| *outcome == Outcome::Changed && *doors);
    if sessions {
        service.announce(Changed::Sessions);
    }
    if doors {
        service.announce(Changed::DoNotKnock);
    }
    for (_, outcome, _) in &applied {
        if let Outcome::Duplicate {
            redact: Some(event_id),
        } = outcome
        {
            // A copy of a "missed" this device sent, not the one the room keeps.
            if let Ok(id) = <&EventId>::try_from(event_id.as_str()) {
                if let Err(error) = room
                    .redact(id, Some("a copy of an earlier missed check-in post"), None)
                    .await
                {
                    tracing::warn!("could not take back a duplicate post: {error}");
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "room_events_tests.rs"]
mod tests;
