//! The two loops of a signed-in device: one syncs the team rooms and applies what arrives;
//! the other sends the outbox, in order, only once a sync has brought the device up to date
//! (so a "missed" queued while offline goes out only if it is still true).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::filter::{FilterDefinition, RoomEventFilter, RoomFilter};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::{OwnedTransactionId, UInt};
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Client, RoomState};

use super::{room_events, teams, TeamService};
use crate::changes::Changed;
use crate::relay::{apply, outbox, Connection};

/// How long a sync waits on the server for news: one request per this while idle.
const LONG_POLL: Duration = Duration::from_secs(30);
/// After being out of touch, a "missed" that was queued meanwhile waits this long (plus its
/// rank), so the other devices coming back at the same time can report first (a check-in
/// they queued makes it untrue, and then it is never sent).
const SETTLE_MS: i64 = 5_000;
const LONGEST_BACKOFF: Duration = Duration::from_secs(30);

/// Whether this device is up to date with its team rooms: posts wait until it is, so a
/// device that starts with a missed alarm pending posts nothing before it has caught up.
#[derive(Default)]
struct Contact {
    synced: AtomicBool,
    /// A room key came (from another device, or from the key backup) since the posts
    /// waiting for theirs were last tried.
    keys_came: AtomicBool,
}

pub fn start(service: Arc<TeamService>, client: Client) -> Vec<tokio::task::JoinHandle<()>> {
    let contact = Arc::new(Contact::default());
    super::verification::listen(&service, &client);
    super::members::listen(&service, &client);
    let runtime = service.runtime().clone();
    vec![
        runtime.spawn(listen_for_keys(client.clone(), contact.clone())),
        runtime.spawn(sync_loop(service.clone(), client.clone(), contact.clone())),
        runtime.spawn(super::identities::follow(service.clone(), client.clone())),
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

fn is_team_room(service: &TeamService, room_id: &str) -> bool {
    teams::team_rooms(&service.database)
        .map(|teams| teams.iter().any(|t| t.room_id == room_id))
        .unwrap_or(false)
}

/// Once in touch, every team this device is in knows it takes part (a device from before
/// announcements, or one whose announcement was lost).
fn announce_in_every_team(service: &TeamService) {
    let Ok(teams) = teams::team_rooms(&service.database) else {
        return;
    };
    let conn = service.database.conn();
    for team in teams {
        if let Err(error) = outbox::announce_presence(&conn, &team.room_id, service.clock.now()) {
            tracing::warn!("could not announce this device to a team: {error}");
        }
    }
}

/// Once a start, the posts and events older than anything still needs are forgotten.
fn forget_old_traffic(service: &TeamService) {
    let (conn, now) = (service.database.conn(), service.clock.now());
    let forgotten = outbox::forget_old_posts(&conn, now)
        .and_then(|posts| Ok(posts + apply::forget_old_events(&conn, now)?));
    match forgotten {
        Ok(0) => {}
        Ok(rows) => tracing::info!(rows, "forgot the team room's old traffic"),
        Err(error) => tracing::warn!("could not forget the team room's old traffic: {error}"),
    }
}

/// Applies what a sync brought for each team room, in the room's order, gaps filled, then
/// tries the posts still waiting for their key again if `retry_waiting`.
async fn apply_sync(
    service: &Arc<TeamService>,
    client: &Client,
    response: SyncResponse,
    retry_waiting: bool,
) {
    for (room_id, update) in response.rooms.joined {
        if !is_team_room(service, room_id.as_str()) {
            continue;
        }
        let Some(room) = client.get_room(&room_id) else {
            continue;
        };
        room_events::apply_room(
            service,
            &room,
            update.timeline.limited,
            update.timeline.prev_batch,
            update.timeline.events,
        )
        .await;
    }
    // A key that came with this sync may open a post that came before it.
    if retry_waiting {
        super::unreadable::retry(service, client).await;
    }
}

/// Posts waiting for their key are tried again only once a key has come (trying each costs
/// a look-up in the key store, which a device with many waiting would pay on every sync),
/// and at least this often should word of a key be lost.
const RETRY_WAITING_ANYWAY: Duration = Duration::from_secs(600);

/// Notes every room key this device receives or downloads from the key backup.
async fn listen_for_keys(client: Client, contact: Arc<Contact>) {
    use futures_util::StreamExt;
    let Some(keys) = client.encryption().room_keys_received_stream().await else {
        return;
    };
    futures_util::pin_mut!(keys);
    // A listener that fell behind (Err) has still been told that keys came.
    while keys.next().await.is_some() {
        contact.keys_came.store(true, Ordering::SeqCst);
    }
}

/// Teams this device was removed from (or left elsewhere) stop being followed here.
fn check_membership(service: &TeamService, client: &Client) {
    let Ok(teams) = teams::team_rooms(&service.database) else {
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
                service.announce(Changed::Sessions);
                service.announce(Changed::Team);
            }
        }
    }
}

/// Each joined team room's member list is fetched afresh once a run (see [`super::members`]).
fn refresh_member_lists(service: &Arc<TeamService>, client: &Client) {
    let Ok(teams) = teams::team_rooms(&service.database) else {
        return;
    };
    for team in teams {
        let room = <&matrix_sdk::ruma::RoomId>::try_from(team.room_id.as_str())
            .ok()
            .and_then(|room_id| client.get_room(room_id));
        if let Some(room) = room.filter(|room| room.state() == RoomState::Joined) {
            super::members::refresh_once_a_run(service, &room);
        }
    }
}

/// Team rooms made before live location was open to every member are opened where this
/// device may (see [`teams::open_live_location`]): each room once a start, once the device
/// has its state (a room joined is looked at after the sync that brings it).
async fn open_live_location(service: &TeamService, client: &Client) {
    let Ok(teams) = teams::team_rooms(&service.database) else {
        return;
    };
    for team in teams {
        let Ok(room_id) = <&matrix_sdk::ruma::RoomId>::try_from(team.room_id.as_str()) else {
            continue;
        };
        let Some(room) = client.get_room(room_id) else {
            continue;
        };
        if room.state() != RoomState::Joined
            || super::lock(&service.live_location_rooms).contains(&team.room_id)
        {
            continue;
        }
        let looked = match teams::open_live_location(client, &room).await {
            Ok(None) => false,
            Ok(Some(_)) => true,
            Err(error) => {
                tracing::warn!(room = %team.room_id, "{error}");
                true
            }
        };
        if looked {
            super::lock(&service.live_location_rooms).insert(team.room_id.clone());
        }
    }
}

async fn sync_loop(service: Arc<TeamService>, client: Client, contact: Arc<Contact>) {
    let synced = &contact.synced;
    let mut backoff = Duration::from_secs(1);
    // A catch-up sync (no waiting on the server) first, and after every failure.
    let mut first = true;
    let mut waiting_tried: Option<std::time::Instant> = None;
    loop {
        let settings = SyncSettings::default().filter(filter()).timeout(if first {
            Duration::ZERO
        } else {
            LONG_POLL
        });
        let syncing = std::time::Instant::now();
        match client.sync_once(settings).await {
            Ok(response) => {
                let synced_in = syncing.elapsed();
                // Keys that came with this sync may not have been noted yet by the listener.
                let retry_waiting = contact.keys_came.swap(false, Ordering::SeqCst)
                    || !response.to_device.is_empty()
                    || waiting_tried.is_none_or(|at| at.elapsed() >= RETRY_WAITING_ANYWAY);
                if retry_waiting {
                    waiting_tried = Some(std::time::Instant::now());
                }
                // A sync that brought nothing (a long poll running out) leaves nothing to free.
                let brought = !response.rooms.joined.is_empty() || !response.to_device.is_empty();
                apply_sync(&service, &client, response, retry_waiting).await;
                if brought {
                    super::memory::hand_back_freed();
                }
                service.syncs_done.send_modify(|done| *done += 1);
                tracing::debug!(?synced_in, total = ?syncing.elapsed(), "team sync");
                if !synced.load(Ordering::SeqCst) {
                    tracing::info!("team sync is up to date");
                    // Caught up: the team's sessions are as the rooms say; alarms may go.
                    service.announce(Changed::TeamReading { until: None });
                }
                open_live_location(&service, &client).await;
                refresh_member_lists(&service, &client);
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
                // A post that waited for this sync (a room just joined) goes now.
                if outbox::waiting(&service.database.reader()).unwrap_or(0) > 0 {
                    service.send_now.notify_one();
                }
                if !synced.swap(true, Ordering::SeqCst) {
                    announce_in_every_team(&service);
                    forget_old_traffic(&service);
                    // Back in touch: missed posts queued meanwhile wait for the others to come
                    // back too, each device in its rank; everything else goes now.
                    let held = outbox::hold_missed_after_reconnect(
                        &service.database.conn(),
                        service.clock.now(),
                        SETTLE_MS,
                    );
                    if let Err(error) = held {
                        tracing::warn!("could not hold the queued missed posts: {error}");
                    }
                    service.send_now.notify_one();
                    service.announce(Changed::Team);
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
        // Nothing waits on a held post while offline: the next sync wakes this loop.
        let wait = if synced.load(Ordering::SeqCst) {
            held
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
        if let Err(error) = send_ready(&service, &client).await {
            service.set_live(Connection::Offline, Some(error));
            synced.store(false, Ordering::SeqCst);
        }
    }
}

/// Sends every post that may go now, in order; stops at the first failure.
async fn send_ready(service: &TeamService, client: &Client) -> Result<(), String> {
    let ready = outbox::ready(&service.database.reader(), service.clock.now())
        .map_err(|e| e.to_string())?;
    let mut alarm_posted = false;
    let sending = !ready.is_empty();
    for post in ready {
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
        let room = match room {
            Some(room) if room.state() == RoomState::Joined => room,
            // Just joined, and a sync from before the join has not caught up yet: the post
            // waits for the next sync rather than being lost.
            Some(room) if !matches!(room.state(), RoomState::Left | RoomState::Banned) => {
                tracing::info!(room = %post.room_id, state = ?room.state(), "a team post waits until this device is in the room");
                continue;
            }
            _ => {
                tracing::warn!(room = %post.room_id, "a team post was dropped: this device is not in that team");
                let _ = service.database.conn().execute(
                    "UPDATE team_outbox SET dropped = 'not in that team' WHERE id = ?1",
                    [post.id],
                );
                continue;
            }
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
        let event_type = match post.kind.as_str() {
            "presence" => outbox::PRESENCE_TYPE,
            "head" => crate::relay::witness::HEAD_TYPE,
            "duress_word" => crate::relay::duress::WORD_TYPE,
            "duress" => crate::relay::duress::SIGNAL_TYPE,
            _ => "m.room.message",
        };
        match room
            .send_raw(event_type, post.content.clone())
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
                    service.announce(Changed::Sessions);
                }
                if text.contains("your device is not verified") {
                    // Confirmed once, and no longer (the account's identity was reset
                    // elsewhere): from the next start it sends as an unconfirmed device.
                    let _ = super::client::note_confirmed(&service.database, false);
                    return Err("This device is no longer confirmed by its owner, so it cannot send to the team: confirm it again on the Team screen. Posts wait until then.".into());
                }
                return Err(format!(
                    "The team server cannot be reached ({text}). Posts wait until it answers."
                ));
            }
        }
    }
    if alarm_posted {
        service.announce(Changed::Sessions);
    }
    if sending {
        super::memory::hand_back_freed();
    }
    Ok(())
}
