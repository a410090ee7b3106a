//! The two loops of a signed-in device: one syncs the team rooms and applies what arrives;
//! the other sends the outbox, in order, only once a sync has brought the device up to date
//! (so a "missed" queued while offline goes out only if it is still true).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::event_handler::RawEvent;
use matrix_sdk::room::Room;
use matrix_sdk::ruma::api::client::filter::{FilterDefinition, RoomEventFilter, RoomFilter};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use matrix_sdk::ruma::{EventId, OwnedTransactionId, UInt};
use matrix_sdk::{Client, RoomState};
use serde_json::Value;

use super::{teams, TeamService};
use crate::relay::apply::{self, Incoming, Outcome};
use crate::relay::{outbox, register, wire, Connection};
use crate::time::from_millis;

/// How long a sync waits on the server for news: one request per this while idle.
const LONG_POLL: Duration = Duration::from_secs(30);
/// After being out of touch, a "missed" that was queued meanwhile waits this long, so the
/// other devices coming back at the same time can report first (a check-in they queued
/// makes it untrue, and then it is never sent).
const SETTLE: Duration = Duration::from_secs(5);
const LONGEST_BACKOFF: Duration = Duration::from_secs(30);

/// What the two loops share: whether this device is up to date with the room, and until
/// when queued alarms wait after it came back.
#[derive(Default)]
struct Contact {
    synced: AtomicBool,
    settling_until: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Contact {
    fn settling_until(&self) -> Option<tokio::time::Instant> {
        let until = *self
            .settling_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        until.filter(|until| *until > tokio::time::Instant::now())
    }
}

pub fn start(service: Arc<TeamService>, client: Client) -> Vec<tokio::task::JoinHandle<()>> {
    add_handlers(&service, &client);
    let contact = Arc::new(Contact::default());
    let runtime = service.runtime().clone();
    vec![
        runtime.spawn(sync_loop(service.clone(), client.clone(), contact.clone())),
        runtime.spawn(send_loop(service, client, contact)),
    ]
}

fn filter() -> Filter {
    let mut timeline = RoomEventFilter::default();
    timeline.limit = Some(UInt::from(100u32));
    let mut room = RoomFilter::default();
    room.timeline = timeline;
    let mut definition = FilterDefinition::default();
    definition.room = room;
    Filter::FilterDefinition(definition)
}

/// What the relay needs of an event, from its JSON.
fn parts(raw: &RawEvent) -> Option<(String, String, chrono::DateTime<chrono::Utc>, Value)> {
    let event: Value = serde_json::from_str(raw.get()).ok()?;
    Some((
        event.get("event_id")?.as_str()?.to_owned(),
        event.get("sender")?.as_str()?.to_owned(),
        from_millis(event.get("origin_server_ts")?.as_i64()?)?,
        event.get("content")?.clone(),
    ))
}

fn is_team_room(service: &TeamService, room: &Room) -> bool {
    teams::teams(&service.database)
        .map(|teams| teams.iter().any(|t| t.room_id == room.room_id().as_str()))
        .unwrap_or(false)
}

async fn after(
    service: &TeamService,
    room: &Room,
    event_id: &str,
    outcome: rusqlite::Result<Outcome>,
) {
    match outcome {
        Ok(Outcome::Changed) => (service.on_change)(),
        Ok(Outcome::Duplicate { redact: true }) => {
            // A later copy of a "missed" this device sent: the room keeps the first.
            if let Ok(id) = <&EventId>::try_from(event_id) {
                if let Err(error) = room
                    .redact(id, Some("a copy of an earlier missed check-in post"), None)
                    .await
                {
                    tracing::warn!("could not take back a duplicate post: {error}");
                }
            }
        }
        Ok(_) => {}
        Err(error) => tracing::error!("could not apply a team event: {error}"),
    }
}

/// Applies one event of a team room with `apply`, then does what the outcome asks.
async fn on_event(
    service: &TeamService,
    room: &Room,
    raw: &RawEvent,
    apply: impl FnOnce(&mut rusqlite::Connection, &Incoming, &Value) -> rusqlite::Result<Outcome>,
) {
    if !is_team_room(service, room) {
        return;
    }
    let Some((event_id, sender, at, content)) = parts(raw) else {
        return;
    };
    // The server's time, so every device computes the same; never ahead of this one.
    let at = at.min(service.clock.now());
    let incoming = Incoming {
        room_id: room.room_id().as_str(),
        event_id: &event_id,
        sender: &sender,
        at,
    };
    let outcome = apply(&mut service.database.conn(), &incoming, &content);
    after(service, room, &event_id, outcome).await;
}

fn add_handlers(service: &Arc<TeamService>, client: &Client) {
    let on_message = service.clone();
    client.add_event_handler(
        move |_: OriginalSyncRoomMessageEvent, room: Room, raw: RawEvent| {
            let service = on_message.clone();
            async move {
                on_event(&service, &room, &raw, |conn, incoming, content| {
                    if let Some(wire) = wire::read(content) {
                        apply::apply_wire(conn, incoming, &wire)
                    } else if let Some(post) = register::read(content) {
                        register::apply(conn, incoming, &post)
                    } else {
                        apply::apply_message(conn, incoming, content)
                    }
                })
                .await;
            }
        },
    );
    let on_reaction = service.clone();
    client.add_event_handler(
        move |_: OriginalSyncReactionEvent, room: Room, raw: RawEvent| {
            let service = on_reaction.clone();
            async move {
                on_event(&service, &room, &raw, |conn, incoming, content| {
                    let relates = content.get("m.relates_to");
                    match (
                        relates
                            .and_then(|r| r.get("event_id"))
                            .and_then(Value::as_str),
                        relates.and_then(|r| r.get("key")).and_then(Value::as_str),
                    ) {
                        (Some(to_event), Some(key)) => {
                            apply::apply_reaction(conn, incoming, to_event, key)
                        }
                        _ => Ok(Outcome::Nothing),
                    }
                })
                .await;
            }
        },
    );
}

/// Teams this device was removed from (or left elsewhere) stop being followed here.
fn check_membership(service: &TeamService, client: &Client) {
    let Ok(teams) = teams::teams(&service.database) else {
        return;
    };
    for team in teams {
        let Ok(room_id) = <&matrix_sdk::ruma::RoomId>::try_from(team.room_id.as_str()) else {
            continue;
        };
        let state = client.get_room(room_id).map(|room| room.state());
        if matches!(state, Some(RoomState::Left | RoomState::Banned)) {
            let problem = format!(
                "You are no longer in the team “{}” (removed, or you left it on another device).",
                team.name
            );
            tracing::warn!(room = %team.room_id, "no longer in a team room");
            if teams::forget_team(&service.database, &team.room_id, service.clock.now()).is_ok() {
                service.set_live(Connection::Online, Some(problem));
                (service.on_change)();
            }
        }
    }
}

async fn sync_loop(service: Arc<TeamService>, client: Client, contact: Arc<Contact>) {
    let synced = &contact.synced;
    let mut backoff = Duration::from_secs(1);
    // A catch-up sync (no waiting on the server) first, and after every failure.
    let mut first = true;
    loop {
        let settings = SyncSettings::default().filter(filter()).timeout(if first {
            Duration::ZERO
        } else {
            LONG_POLL
        });
        match client.sync_once(settings).await {
            Ok(_) => {
                if !synced.load(Ordering::SeqCst) {
                    tracing::info!("team sync is up to date");
                }
                first = false;
                backoff = Duration::from_secs(1);
                {
                    let mut live = super::lock(&service.live);
                    live.connection = Some(Connection::Online);
                    live.last_sync = Some(service.clock.now());
                    if live
                        .problem
                        .as_deref()
                        .is_some_and(|p| p.starts_with("The team server cannot"))
                    {
                        live.problem = None;
                    }
                }
                check_membership(&service, &client);
                if !synced.swap(true, Ordering::SeqCst) {
                    // Back in touch: what waited in the outbox can go now, alarms after a pause.
                    *contact
                        .settling_until
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) =
                        Some(tokio::time::Instant::now() + SETTLE);
                    service.send_now.notify_one();
                }
            }
            Err(error) => {
                synced.store(false, Ordering::SeqCst);
                // The next try must come straight back with what was missed, not wait on the
                // server for news: the outbox waits for it.
                first = true;
                use matrix_sdk::ruma::api::error::ErrorKind;
                if matches!(
                    error.client_api_error_kind(),
                    Some(ErrorKind::UnknownToken { .. })
                ) {
                    service.set_live(
                        Connection::Offline,
                        Some("The team server signed this device out. Sign out here and sign in again.".into()),
                    );
                    return;
                }
                tracing::info!("team sync failed: {error}");
                service.set_live(Connection::Offline, Some(format!("The team server cannot be reached ({error}). Alarms still work here; posts wait until it answers.")));
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = service.retry_now.notified() => {}
                }
                backoff = (backoff * 2).min(LONGEST_BACKOFF);
            }
        }
    }
}

async fn send_loop(service: Arc<TeamService>, client: Client, contact: Arc<Contact>) {
    let synced = &contact.synced;
    loop {
        let held = outbox::next_hold(&service.database.reader())
            .ok()
            .flatten()
            .map(|at| {
                (at - service.clock.now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
            });
        let settling = contact
            .settling_until()
            .map(|until| until.saturating_duration_since(tokio::time::Instant::now()));
        // Nothing waits on a held post while offline: the next sync wakes this loop.
        let wait = if synced.load(Ordering::SeqCst) {
            match (held, settling) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
        } else {
            None
        };
        tokio::select! {
            _ = service.send_now.notified() => {}
            _ = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait.max(Duration::from_millis(20))).await,
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
        if !synced.load(Ordering::SeqCst) {
            continue;
        }
        if let Err(error) = send_ready(&service, &client, contact.settling_until().is_some()).await
        {
            service.set_live(Connection::Offline, Some(error));
            synced.store(false, Ordering::SeqCst);
        }
    }
}

/// Sends every post that may go now, in order; stops at the first failure.
async fn send_ready(service: &TeamService, client: &Client, settling: bool) -> Result<(), String> {
    let ready = outbox::ready(&service.database.reader(), service.clock.now())
        .map_err(|e| e.to_string())?;
    let mut alarm_posted = false;
    for post in ready {
        if settling && post.kind == "missed" {
            continue;
        }
        {
            let conn = service.database.conn();
            if outbox::drop_if_stale(&conn, &post)
                .map_err(|e| e.to_string())?
                .is_some()
            {
                alarm_posted = true;
                continue;
            }
        }
        let room = <&matrix_sdk::ruma::RoomId>::try_from(post.room_id.as_str())
            .ok()
            .and_then(|id| client.get_room(id));
        let Some(room) = room.filter(|r| r.state() == RoomState::Joined) else {
            let _ = service.database.conn().execute(
                "UPDATE team_outbox SET dropped = 'not in that team' WHERE id = ?1",
                [post.id],
            );
            continue;
        };
        let encrypted = room
            .latest_encryption_state()
            .await
            .map(|s| s.is_encrypted())
            .unwrap_or(false);
        if !encrypted {
            let _ = service.database.conn().execute(
                "UPDATE team_outbox SET dropped = 'the room is not encrypted' WHERE id = ?1",
                [post.id],
            );
            service.set_live(
                Connection::Online,
                Some(crate::relay::RelayError::NotEncrypted.to_string()),
            );
            continue;
        }
        let txn: OwnedTransactionId = post.transaction_id().into();
        match room
            .send_raw("m.room.message", post.content.clone())
            .with_transaction_id(&txn)
            .await
        {
            Ok(sent) => {
                let event_id = sent.response.event_id.to_string();
                let conn = service.database.conn();
                outbox::mark_sent(&conn, post.id, &event_id, service.clock.now())
                    .map_err(|e| e.to_string())?;
                alarm_posted |= matches!(post.kind.as_str(), "missed" | "help");
            }
            Err(error) => {
                let text = error.to_string();
                let _ = outbox::mark_failed(&service.database.conn(), post.id, &text);
                if alarm_posted {
                    (service.on_change)();
                }
                return Err(format!(
                    "The team server cannot be reached ({text}). Posts wait until it answers."
                ));
            }
        }
    }
    if alarm_posted {
        (service.on_change)();
    }
    Ok(())
}
