//! Teams: end-to-end encrypted rooms with a neutral name, their invite links and QR codes,
//! members and their devices, joining, inviting and leaving.

use chrono::{DateTime, Utc};
use matrix_sdk::ruma::api::client::room::create_room;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedServerName, RoomId, UserId};
use matrix_sdk::{Client, RoomState};
use rusqlite::params;

use super::client::refused;
use super::{Invitation, TeamView};
use crate::relay::{invalid, RelayError};
use crate::storage::Database;
use crate::time::to_millis;

/// The room's own name: room names are not encrypted, so it says nothing about who or where.
const NEUTRAL_ROOM_NAME: &str = "Campaign Safe team";

/// The invite link. Newer room ids name no server, so the link says which server to ask:
/// this device's own.
pub fn link(room_id: &str, user_id: &str) -> String {
    let server = user_id.split_once(':').map(|(_, s)| s).unwrap_or_default();
    format!("https://matrix.to/#/{room_id}?via={server}")
}

fn own_user(database: &Database) -> String {
    database
        .reader()
        .query_row("SELECT user_id FROM team_account", [], |r| r.get(0))
        .unwrap_or_default()
}

/// The QR code of `text` as rows of 1 (dark) and 0, for the window to draw.
fn qr_rows(text: &str) -> Vec<String> {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return Vec::new();
    };
    let width = code.width();
    code.to_colors()
        .chunks(width)
        .map(|row| {
            row.iter()
                .map(|c| if *c == qrcode::Color::Dark { '1' } else { '0' })
                .collect()
        })
        .collect()
}

/// A team room this device follows: all the relay's own loops need of a team.
#[derive(Debug, Clone)]
pub(crate) struct TeamRoom {
    pub room_id: String,
    pub name: String,
}

/// The teams this device is in, oldest first, without what only the window shows (the QR
/// code takes milliseconds to draw, and the sync loop asks for the teams after every sync).
pub(crate) fn team_rooms(database: &Database) -> Result<Vec<TeamRoom>, RelayError> {
    let conn = database.reader();
    let mut stmt = conn.prepare("SELECT room_id, name FROM team ORDER BY joined_at")?;
    let rows = stmt.query_map([], |r| {
        Ok(TeamRoom {
            room_id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The teams as the Team screen shows them, with their invite links and QR codes.
pub fn teams(database: &Database) -> Result<Vec<TeamView>, RelayError> {
    let user = own_user(database);
    let rooms = team_rooms(database)?;
    let conn = database.reader();
    let mut teams = Vec::new();
    for TeamRoom { room_id, name } in rooms {
        let link = link(&room_id, &user);
        teams.push(TeamView {
            duress: crate::relay::duress::word_of(&conn, &room_id)?,
            qr: qr_rows(&link),
            room_id,
            name,
            link,
        });
    }
    Ok(teams)
}

/// Keeps a team this device joined or made (or its new name); a team new to this device is
/// sent the do-not-knock list kept so far.
pub(crate) fn remember_team(
    database: &Database,
    room_id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<TeamView, RelayError> {
    {
        let mut conn = database.conn();
        let tx = conn.transaction()?;
        let new = tx.execute(
            "INSERT INTO team (room_id, name, joined_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (room_id) DO NOTHING",
            params![room_id, name, to_millis(now)],
        )? == 1;
        if new {
            crate::relay::register::share_list_with(&tx, room_id, now)?;
            crate::relay::outbox::announce_presence(&tx, room_id, now)?;
        } else {
            tx.execute(
                "UPDATE team SET name = ?2 WHERE room_id = ?1",
                params![room_id, name],
            )?;
        }
        tx.commit()?;
    }
    let link = link(room_id, &own_user(database));
    Ok(TeamView {
        duress: crate::relay::duress::word_of(&database.reader(), room_id)?,
        qr: qr_rows(&link),
        room_id: room_id.to_owned(),
        name: name.to_owned(),
        link,
    })
}

/// The team room's power levels, over the server's defaults. Any member may ring the whole
/// room (@room) when a check-in is missed, and share live location (its `beacon_info` state
/// needs 50 by default). The server replaces the whole `events` map, so the defaults for the
/// room's settings are given again.
pub fn power_levels() -> serde_json::Value {
    let mut events = serde_json::json!({
        "m.room.name": 50,
        "m.room.avatar": 50,
        "m.room.canonical_alias": 50,
        "m.room.topic": 50,
        "m.room.power_levels": 100,
        "m.room.history_visibility": 100,
        "m.room.encryption": 100,
        "m.room.tombstone": 100,
        "m.room.server_acl": 100,
        "m.room.pinned_events": 50,
    });
    for kind in crate::relay::whereabouts::BEACON_INFO_TYPES {
        events[kind] = 0.into();
    }
    serde_json::json!({ "notifications": { "room": 0 }, "events": events })
}

/// A team room made before live location was allowed to all (or by another client): where
/// this device may change the room's power levels, every member may now share live location.
/// Returns whether the room was changed, or None while its settings are not known here yet.
pub async fn open_live_location(
    client: &Client,
    room: &matrix_sdk::Room,
) -> Result<Option<bool>, RelayError> {
    use matrix_sdk::ruma::events::room::power_levels::RoomPowerLevelsEventContent;
    use matrix_sdk::ruma::events::{StateEventType, TimelineEventType};
    use matrix_sdk::ruma::Int;
    let Some(me) = client.user_id() else {
        return Ok(Some(false));
    };
    let Ok(mut levels) = room.power_levels().await else {
        return Ok(None);
    };
    let closed: Vec<&str> = crate::relay::whereabouts::BEACON_INFO_TYPES
        .into_iter()
        .filter(|kind| levels.events.get(&TimelineEventType::from(*kind)) != Some(&Int::from(0u8)))
        .collect();
    if closed.is_empty() || !levels.user_can_send_state(me, StateEventType::RoomPowerLevels) {
        return Ok(Some(false));
    }
    for kind in closed {
        levels
            .events
            .insert(TimelineEventType::from(kind), Int::from(0u8));
    }
    let content = RoomPowerLevelsEventContent::try_from(levels)
        .map_err(|e| RelayError::Refused(e.to_string()))?;
    room.send_state_event(content)
        .await
        .map_err(|e| refused(e, "Letting members share live location"))?;
    tracing::info!(room = %room.room_id(), "members may now share live location in this team room");
    Ok(Some(true))
}

pub async fn create_team(
    database: &Database,
    client: &Client,
    name: &str,
    now: DateTime<Utc>,
) -> Result<TeamView, RelayError> {
    let mut request = create_room::v3::Request::new();
    request.name = Some(NEUTRAL_ROOM_NAME.into());
    request.preset = Some(create_room::v3::RoomPreset::PrivateChat);
    request.initial_state = vec![InitialStateEvent::with_empty_state_key(
        RoomEncryptionEventContent::with_recommended_defaults(),
    )
    .to_raw_any()];
    let levels = serde_json::value::to_raw_value(&power_levels())
        .map_err(|e| RelayError::Refused(e.to_string()))?;
    request.power_level_content_override = Some(Raw::from_json(levels));
    let room = client
        .create_room(request)
        .await
        .map_err(|e| refused(e, "Creating the team"))?;
    remember_team(database, room.room_id().as_str(), name, now)
}

/// A room from what was pasted: a matrix.to link, a room id or a room address.
fn parse_invite(invite: &str) -> Result<(OwnedRoomOrAliasId, Vec<OwnedServerName>), RelayError> {
    let bad = || {
        invalid(
            "invite",
            "Invite link",
            "paste the team's invite link (https://matrix.to/#/…) or its room id (!…:server).",
        )
    };
    let typed = invite.trim();
    let (target, query) = match typed.split_once("matrix.to/#/") {
        Some((_, rest)) => rest.split_once('?').map_or((rest, ""), |(a, b)| (a, b)),
        None => (typed, ""),
    };
    let target = url::form_urlencoded::parse(format!("x={target}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or_else(bad)?;
    let room = OwnedRoomOrAliasId::try_from(target.as_str()).map_err(|_| bad())?;
    let mut via: Vec<OwnedServerName> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "via")
        .filter_map(|(_, v)| OwnedServerName::try_from(v.as_ref()).ok())
        .collect();
    if via.is_empty() {
        if let Some(server) = room.server_name() {
            via.push(server.to_owned());
        }
    }
    Ok((room, via))
}

pub async fn join_team(
    database: &Database,
    client: &Client,
    invite: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<TeamView, RelayError> {
    let (room, via) = parse_invite(invite)?;
    let joined = client
        .join_room_by_id_or_alias(&room, &via)
        .await
        .map_err(|e| refused(e, "Joining the team"))?;
    let encrypted = joined
        .latest_encryption_state()
        .await
        .map(|state| state.is_encrypted())
        .unwrap_or(false);
    if !encrypted {
        let _ = joined.leave().await;
        return Err(RelayError::NotEncrypted);
    }
    remember_team(database, joined.room_id().as_str(), name, now)
}

pub(super) fn room_id(typed: &str) -> Result<&RoomId, RelayError> {
    <&RoomId>::try_from(typed).map_err(|_| RelayError::UnknownTeam(typed.to_owned()))
}

pub async fn invite(client: &Client, room: &str, user: &str) -> Result<(), RelayError> {
    let user = UserId::parse(user.trim()).map_err(|_| {
        invalid(
            "userId",
            "Invite",
            "write the person's full Matrix id, such as @sam:example.org.",
        )
    })?;
    let room = client
        .get_room(room_id(room)?)
        .ok_or_else(|| RelayError::UnknownTeam(room.to_owned()))?;
    room.invite_user_by_id(&user)
        .await
        .map_err(|e| refused(e, "Inviting"))
}

pub async fn invitations(client: &Client) -> Vec<Invitation> {
    let mut list = Vec::new();
    for room in client.invited_rooms() {
        let inviter = match room.invite_details().await {
            Ok(details) => details
                .inviter
                .map(|m| m.user_id().to_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        list.push(Invitation {
            room_id: room.room_id().to_string(),
            inviter,
        });
    }
    list
}

pub async fn leave(
    database: &Database,
    client: &Client,
    room: &str,
    now: DateTime<Utc>,
) -> Result<(), RelayError> {
    if let Some(joined) = client.get_room(room_id(room)?) {
        if joined.state() == RoomState::Joined {
            joined
                .leave()
                .await
                .map_err(|e| refused(e, "Leaving the team"))?;
        }
    }
    forget_team(database, room, now)
}

/// This device no longer follows `room`: its team sessions end here, its own stop being
/// shared, and nothing more is posted there.
pub fn forget_team(database: &Database, room: &str, now: DateTime<Utc>) -> Result<(), RelayError> {
    let mut conn = database.conn();
    let tx = conn.transaction()?;
    crate::checkins::shared::team_left(&tx, Some(room), now)?;
    tx.execute(
        "DELETE FROM team_outbox WHERE room_id = ?1 AND sent_at IS NULL",
        [room],
    )?;
    tx.execute("DELETE FROM team WHERE room_id = ?1", [room])?;
    tx.commit()?;
    Ok(())
}
