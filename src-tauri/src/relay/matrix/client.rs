//! Talking to the homeserver: accounts, teams and members, with every refusal turned into a
//! sentence a person can act on.

use std::path::{Path, PathBuf};
use chrono::{DateTime, Utc};
use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::encryption::EncryptionSettings;
use matrix_sdk::ruma::api::client::account::register;
use matrix_sdk::ruma::api::client::room::create_room;
use matrix_sdk::ruma::api::client::uiaa::{AuthData, RegistrationToken};
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedServerName, RoomId, UserId};
use matrix_sdk::{Client, RoomMemberships, RoomState};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use url::Url;

use super::{Invitation, TeamView};
use crate::relay::{invalid, RelayError};
use crate::storage::Database;
use crate::time::to_millis;

/// The room's own name: room names are not encrypted, so it says nothing about who or where.
const NEUTRAL_ROOM_NAME: &str = "Campaign Safe team";

pub struct StoredAccount {
    pub homeserver: String,
    pub user_id: String,
    session: String,
    passphrase: String,
}

pub fn stored_account(database: &Database) -> Result<Option<StoredAccount>, RelayError> {
    Ok(database
        .reader()
        .query_row(
            "SELECT homeserver, user_id, session, store_passphrase FROM team_account",
            [],
            |r| {
                Ok(StoredAccount {
                    homeserver: r.get(0)?,
                    user_id: r.get(1)?,
                    session: r.get(2)?,
                    passphrase: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub fn homeserver_url(typed: &str) -> Result<Url, RelayError> {
    let typed = typed.trim().trim_end_matches('/');
    if typed.is_empty() {
        return Err(invalid("homeserver", "Team server", "enter the address of your team's Matrix server, such as https://matrix.example.org."));
    }
    let with_scheme = if typed.contains("://") { typed.to_owned() } else { format!("https://{typed}") };
    match Url::parse(&with_scheme) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => Ok(url),
        _ => Err(invalid("homeserver", "Team server", "that is not a server address; it looks like https://matrix.example.org.")),
    }
}

pub fn team_name(typed: &str) -> Result<String, RelayError> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(invalid("name", "Team name", "give the team a name you will recognise (only this device sees it)."));
    }
    if name.chars().count() > 100 {
        return Err(invalid("name", "Team name", "use at most 100 characters."));
    }
    Ok(name.to_owned())
}

/// A refusal from the server, in words.
fn refused(error: matrix_sdk::Error, action: &str) -> RelayError {
    use matrix_sdk::ruma::api::error::ErrorKind;
    match error.client_api_error_kind() {
        Some(ErrorKind::Forbidden) => RelayError::Refused(format!("{action}: the user name or password is wrong, or this account may not do that.")),
        Some(ErrorKind::LimitExceeded(_)) => RelayError::Refused(format!("{action}: too many attempts; wait a minute and try again.")),
        Some(ErrorKind::UserInUse) => RelayError::Refused(format!("{action}: that user name is taken.")),
        Some(ErrorKind::InvalidUsername) => RelayError::Refused(format!("{action}: that user name is not allowed; use letters, numbers and . _ - only.")),
        Some(ErrorKind::NotFound) => RelayError::Refused(format!("{action}: the server does not know that room or user.")),
        Some(_) => RelayError::Refused(format!("{action}: {error}.")),
        None => match &error {
            matrix_sdk::Error::Http(http) if http.as_uiaa_response().is_some() => {
                RelayError::Refused(format!("{action}: the registration token was not accepted."))
            }
            matrix_sdk::Error::Http(_) => RelayError::Unreachable(error.to_string()),
            _ => RelayError::Refused(format!("{action}: {error}")),
        },
    }
}

fn store_dir(root: &Path) -> PathBuf {
    root.join("store")
}

async fn build(store_root: &Path, homeserver: &Url, passphrase: &str) -> Result<Client, RelayError> {
    std::fs::create_dir_all(store_root)
        .map_err(|e| RelayError::Refused(format!("the team store folder cannot be made: {e}")))?;
    Client::builder()
        .homeserver_url(homeserver.as_str())
        // The SDK would otherwise retry a failed request for ever: a wrong address would
        // never be reported, and a post would never give way to the outbox's own retries.
        .request_config(RequestConfig::new().retry_limit(2).max_retry_time(Duration::from_secs(10)))
        .sqlite_store(store_dir(store_root), Some(passphrase))
        .with_encryption_settings(EncryptionSettings {
            auto_enable_cross_signing: true,
            ..Default::default()
        })
        .build()
        .await
        .map_err(|error| RelayError::Unreachable(error.to_string()))
}

pub async fn restore(store_root: &Path, stored: &StoredAccount) -> Result<Client, RelayError> {
    let url = homeserver_url(&stored.homeserver)?;
    let client = build(store_root, &url, &stored.passphrase).await?;
    let session: MatrixSession = serde_json::from_str(&stored.session)
        .map_err(|_| RelayError::Refused("the stored team login is unreadable; sign in again.".into()))?;
    client
        .matrix_auth()
        .restore_session(session, Default::default())
        .await
        .map_err(|e| refused(e, "Signing back in"))?;
    Ok(client)
}

fn random_passphrase() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub async fn sign_in(
    database: &Database,
    store_root: &Path,
    homeserver: &Url,
    user: &str,
    password: &str,
    registration_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Client, RelayError> {
    // A fresh store for a fresh login: a store is tied to one device.
    let _ = std::fs::remove_dir_all(store_dir(store_root));
    let passphrase = random_passphrase();
    let client = build(store_root, homeserver, &passphrase).await?;
    if let Some(token) = registration_token.filter(|t| !t.trim().is_empty()) {
        register(&client, user, password, token.trim()).await?;
    }
    client
        .matrix_auth()
        .login_username(user, password)
        .initial_device_display_name("Campaign Safe")
        .await
        .map_err(|e| refused(e, "Signing in"))?;
    let session = client
        .matrix_auth()
        .session()
        .ok_or_else(|| RelayError::Refused("Signing in: the server sent no session.".into()))?;
    database.conn().execute(
        "INSERT INTO team_account (id, homeserver, user_id, device_id, session, store_passphrase, signed_in_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            homeserver.as_str(),
            session.meta.user_id.as_str(),
            session.meta.device_id.as_str(),
            serde_json::to_string(&session).unwrap_or_default(),
            passphrase,
            to_millis(now)
        ],
    )?;
    tracing::info!(user = %session.meta.user_id, "signed in to the team server");
    Ok(client)
}

/// Registers with a registration token, going through the server's sign-up stages (the
/// token, then usually a "dummy" stage that only confirms).
pub async fn register(client: &Client, user: &str, password: &str, token: &str) -> Result<(), RelayError> {
    use matrix_sdk::ruma::api::client::uiaa::{AuthType, Dummy};
    let mut request = register::v3::Request::new();
    request.username = Some(user.trim_start_matches('@').split(':').next().unwrap_or(user).to_owned());
    request.password = Some(password.to_owned());
    request.inhibit_login = true;
    let auth = client.matrix_auth();
    for _ in 0..4 {
        let error = match auth.register(request.clone()).await {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let Some(info) = error.as_uiaa_response() else {
            return Err(refused(error, "Registering"));
        };
        let next = info
            .flows
            .iter()
            .find_map(|flow| flow.stages.iter().find(|stage| !info.completed.contains(stage)))
            .cloned();
        request.auth = match next {
            Some(AuthType::RegistrationToken) => {
                let mut step = RegistrationToken::new(token.to_owned());
                step.session = info.session.clone();
                Some(AuthData::RegistrationToken(step))
            }
            Some(AuthType::Dummy) => {
                let mut step = Dummy::new();
                step.session = info.session.clone();
                Some(AuthData::Dummy(step))
            }
            _ => return Err(RelayError::Refused("Registering: this server asks for a sign-up step the app cannot do (such as email); register in Element, then sign in here.".into())),
        };
    }
    Err(RelayError::Refused("Registering: the server did not finish the sign-up.".into()))
}

pub fn forget_account(database: &Database, store_root: &Path, now: DateTime<Utc>) -> Result<(), RelayError> {
    let mut conn = database.conn();
    let tx = conn.transaction()?;
    // The team's sessions stop being tracked here; this device's own stop being shared.
    tx.execute(
        "UPDATE checkin_session SET ended_at = ?1 WHERE origin = 'team' AND ended_at IS NULL",
        [to_millis(now)],
    )?;
    tx.execute("UPDATE checkin_session SET team_room = NULL WHERE origin = 'local'", [])?;
    tx.execute("DELETE FROM team_outbox WHERE sent_at IS NULL", [])?;
    tx.execute("DELETE FROM team", [])?;
    tx.execute("DELETE FROM team_account", [])?;
    tx.commit()?;
    let _ = std::fs::remove_dir_all(store_root);
    Ok(())
}

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
        .map(|row| row.iter().map(|c| if *c == qrcode::Color::Dark { '1' } else { '0' }).collect())
        .collect()
}

pub fn teams(database: &Database) -> Result<Vec<TeamView>, RelayError> {
    let user = own_user(database);
    let conn = database.reader();
    let mut stmt = conn.prepare("SELECT room_id, name FROM team ORDER BY joined_at")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut teams = Vec::new();
    for row in rows {
        let (room_id, name) = row?;
        let link = link(&room_id, &user);
        teams.push(TeamView { qr: qr_rows(&link), room_id, name, link });
    }
    Ok(teams)
}

fn remember_team(database: &Database, room_id: &str, name: &str, now: DateTime<Utc>) -> Result<TeamView, RelayError> {
    database.conn().execute(
        "INSERT INTO team (room_id, name, joined_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (room_id) DO UPDATE SET name = excluded.name",
        params![room_id, name, to_millis(now)],
    )?;
    let link = link(room_id, &own_user(database));
    Ok(TeamView { qr: qr_rows(&link), room_id: room_id.to_owned(), name: name.to_owned(), link })
}

pub async fn create_team(database: &Database, client: &Client, name: &str, now: DateTime<Utc>) -> Result<TeamView, RelayError> {
    let mut request = create_room::v3::Request::new();
    request.name = Some(NEUTRAL_ROOM_NAME.into());
    request.preset = Some(create_room::v3::RoomPreset::PrivateChat);
    request.initial_state = vec![InitialStateEvent::with_empty_state_key(
        RoomEncryptionEventContent::with_recommended_defaults(),
    )
    .to_raw_any()];
    // Any member may ring the whole room (@room) when a check-in is missed.
    let levels = serde_json::value::to_raw_value(&serde_json::json!({ "notifications": { "room": 0 } }))
        .map_err(|e| RelayError::Refused(e.to_string()))?;
    request.power_level_content_override = Some(Raw::from_json(levels));
    let room = client.create_room(request).await.map_err(|e| refused(e, "Creating the team"))?;
    remember_team(database, room.room_id().as_str(), name, now)
}

/// A room from what was pasted: a matrix.to link, a room id or a room address.
fn parse_invite(invite: &str) -> Result<(OwnedRoomOrAliasId, Vec<OwnedServerName>), RelayError> {
    let bad = || invalid("invite", "Invite link", "paste the team's invite link (https://matrix.to/#/…) or its room id (!…:server).");
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

pub async fn join_team(database: &Database, client: &Client, invite: &str, name: &str, now: DateTime<Utc>) -> Result<TeamView, RelayError> {
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

fn room_id(typed: &str) -> Result<&RoomId, RelayError> {
    <&RoomId>::try_from(typed).map_err(|_| RelayError::UnknownTeam(typed.to_owned()))
}

pub async fn invite(client: &Client, room: &str, user: &str) -> Result<(), RelayError> {
    let user = UserId::parse(user.trim()).map_err(|_| {
        invalid("userId", "Invite", "write the person's full Matrix id, such as @sam:example.org.")
    })?;
    let room = client.get_room(room_id(room)?).ok_or_else(|| RelayError::UnknownTeam(room.to_owned()))?;
    room.invite_user_by_id(&user).await.map_err(|e| refused(e, "Inviting"))
}

pub async fn invitations(client: &Client) -> Vec<Invitation> {
    let mut list = Vec::new();
    for room in client.invited_rooms() {
        let inviter = match room.invite_details().await {
            Ok(details) => details.inviter.map(|m| m.user_id().to_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        list.push(Invitation { room_id: room.room_id().to_string(), inviter });
    }
    list
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberDevice {
    pub device_id: String,
    pub name: String,
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: String,
    pub name: String,
    pub devices: Vec<MemberDevice>,
}

pub async fn members(client: &Client, room: &str) -> Result<Vec<Member>, RelayError> {
    let room = client.get_room(room_id(room)?).ok_or_else(|| RelayError::UnknownTeam(room.to_owned()))?;
    let joined = room
        .members(RoomMemberships::JOIN | RoomMemberships::INVITE)
        .await
        .map_err(|e| refused(e, "Listing members"))?;
    let mut members = Vec::new();
    for member in joined {
        let devices = match client.encryption().get_user_devices(member.user_id()).await {
            Ok(devices) => devices
                .devices()
                .map(|d| MemberDevice {
                    device_id: d.device_id().to_string(),
                    name: d.display_name().unwrap_or_default().to_owned(),
                    verified: d.is_verified(),
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let invited = member.membership() == &matrix_sdk::ruma::events::room::member::MembershipState::Invite;
        members.push(Member {
            user_id: member.user_id().to_string(),
            name: format!("{}{}", member.name(), if invited { " (invited)" } else { "" }),
            devices,
        });
    }
    Ok(members)
}

pub async fn leave(database: &Database, client: &Client, room: &str, now: DateTime<Utc>) -> Result<(), RelayError> {
    if let Some(joined) = client.get_room(room_id(room)?) {
        if joined.state() == RoomState::Joined {
            joined.leave().await.map_err(|e| refused(e, "Leaving the team"))?;
        }
    }
    forget_team(database, room, now)
}

/// This device no longer follows `room`: its team sessions end here, its own stop being
/// shared, and nothing more is posted there.
pub fn forget_team(database: &Database, room: &str, now: DateTime<Utc>) -> Result<(), RelayError> {
    let mut conn = database.conn();
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE checkin_session SET ended_at = ?2 WHERE origin = 'team' AND team_room = ?1 AND ended_at IS NULL",
        params![room, to_millis(now)],
    )?;
    tx.execute("UPDATE checkin_session SET team_room = NULL WHERE origin = 'local' AND team_room = ?1", [room])?;
    tx.execute("DELETE FROM team_outbox WHERE room_id = ?1 AND sent_at IS NULL", [room])?;
    tx.execute("DELETE FROM team WHERE room_id = ?1", [room])?;
    tx.commit()?;
    Ok(())
}
