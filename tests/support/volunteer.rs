//! A volunteer without the app: a plain Matrix client (as Element would be), and what the
//! team tests read back from the room through it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use matrix_sdk::config::SyncSettings;
use matrix_sdk::encryption::verification::{
    SasVerification, VerificationRequest, VerificationRequestState,
};
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::RoomId;
use matrix_sdk::Client;
use serde_json::{json, Value};

use super::synapse::Synapse;

/// Posts read back from the room by the tests (a count for the report).
pub static ROOM_MESSAGES: AtomicUsize = AtomicUsize::new(0);

/// A volunteer without the app: a plain Matrix client that sets up cross-signing at
/// sign-in, as Element does (the app sends room keys only to confirmed devices).
pub async fn volunteer(name: &str, server: &Synapse) -> Client {
    volunteer_with(name, server, true).await
}

/// A member whose client never set up cross-signing (an old or unusual client): the app
/// sends it no room keys, and says so.
pub async fn volunteer_without_cross_signing(name: &str, server: &Synapse) -> Client {
    volunteer_with(name, server, false).await
}

async fn volunteer_with(name: &str, server: &Synapse, cross_signing: bool) -> Client {
    let store = tempfile::tempdir().unwrap().keep();
    let client = Client::builder()
        .homeserver_url(server.url())
        .sqlite_store(&store, None)
        .with_encryption_settings(matrix_sdk::encryption::EncryptionSettings {
            auto_enable_cross_signing: cross_signing,
            ..Default::default()
        })
        .build()
        .await
        .expect("volunteer client");
    let password = format!("{name}-password");
    campaign_safe_lib::relay::matrix::register(&client, name, &password, &server.token)
        .await
        .expect("the volunteer registers");
    let auth = client.matrix_auth();
    auth.login_username(name, &format!("{name}-password"))
        .await
        .expect("volunteer signs in");
    client
        .encryption()
        .wait_for_e2ee_initialization_tasks()
        .await;
    client
        .sync_once(SyncSettings::default())
        .await
        .expect("first sync");
    client
}

/// A member as Element X sets one up: cross-signing made at once and recovery set up
/// (secret storage and key backup). Returns the client and the recovery key it showed.
pub async fn element_user(name: &str, server: &Synapse) -> (Client, String) {
    element_client(name, server, false).await
}

/// A strict stand-in for Element X (issue 24): as `element_user`, and room keys go only to
/// devices their owners confirmed (`IdentityBasedStrategy`), and messages from a device its
/// owner has not confirmed are not read (`TrustRequirement::CrossSigned`).
pub async fn element_x(name: &str, server: &Synapse) -> (Client, String) {
    element_client(name, server, true).await
}

async fn element_client(name: &str, server: &Synapse, strict: bool) -> (Client, String) {
    use matrix_sdk_base::crypto::{CollectStrategy, DecryptionSettings, TrustRequirement};
    let store = tempfile::tempdir().unwrap().keep();
    let mut builder = Client::builder()
        .homeserver_url(server.url())
        .sqlite_store(&store, None);
    if strict {
        builder = builder
            .with_room_key_recipient_strategy(CollectStrategy::IdentityBasedStrategy)
            .with_decryption_settings(DecryptionSettings {
                sender_device_trust_requirement: TrustRequirement::CrossSigned,
            });
    }
    let client = builder
        .with_encryption_settings(matrix_sdk::encryption::EncryptionSettings {
            auto_enable_cross_signing: true,
            ..Default::default()
        })
        .build()
        .await
        .expect("Element stand-in client");
    let password = format!("{name}-password");
    campaign_safe_lib::relay::matrix::register(&client, name, &password, &server.token)
        .await
        .expect("the member registers");
    client
        .matrix_auth()
        .login_username(name, &password)
        .initial_device_display_name(&format!("{name}'s phone"))
        .await
        .expect("the member signs in");
    client
        .encryption()
        .wait_for_e2ee_initialization_tasks()
        .await;
    let key = client
        .encryption()
        .recovery()
        .enable()
        .await
        .expect("recovery is set up");
    client
        .sync_once(SyncSettings::default())
        .await
        .expect("first sync");
    (client, key)
}

/// `client` once a sync has brought it `room_id` (another device of a member already in it).
pub async fn synced_into<'a>(client: &'a Client, room_id: &str) -> &'a Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client
        .get_room(<&RoomId>::try_from(room_id).unwrap())
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the room never reached this client"
        );
        client
            .sync_once(SyncSettings::default().timeout(Duration::from_millis(500)))
            .await
            .expect("sync");
    }
    client
}

/// `name` makes new cross-signing keys, as after "reset identity" in Element (or as someone
/// who took over the account would).
pub async fn reset_identity(client: &Client, name: &str) {
    use matrix_sdk::encryption::CrossSigningResetAuthType;
    use matrix_sdk::ruma::api::client::uiaa;
    let Some(reset) = client
        .encryption()
        .reset_cross_signing()
        .await
        .expect("reset")
    else {
        return;
    };
    if let CrossSigningResetAuthType::Uiaa(info) = reset.auth_type() {
        let mut password = uiaa::Password::new(
            client.user_id().unwrap().to_owned().into(),
            format!("{name}-password"),
        );
        password.session = info.session.clone();
        reset
            .auth(Some(uiaa::AuthData::Password(password)))
            .await
            .expect("the reset is allowed with the password");
    }
}

fn room(client: &Client, room_id: &str) -> matrix_sdk::room::Room {
    client
        .get_room(<&RoomId>::try_from(room_id).unwrap())
        .expect("room")
}

pub async fn join_as_volunteer(client: &Client, room_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        client
            .sync_once(SyncSettings::default().timeout(Duration::from_millis(500)))
            .await
            .expect("sync");
        if let Some(invited) = client.get_room(<&RoomId>::try_from(room_id).unwrap()) {
            invited.join().await.expect("volunteer joins");
            client
                .sync_once(SyncSettings::default())
                .await
                .expect("sync");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the volunteer's invitation never came"
        );
    }
}

/// Every post in the room, decrypted, oldest first; redacted ones come back empty.
pub async fn posts(client: &Client, room_id: &str) -> Vec<Value> {
    client
        .sync_once(SyncSettings::default().timeout(Duration::from_millis(200)))
        .await
        .expect("sync");
    let mut options = MessagesOptions::backward();
    options.limit = 500u32.into();
    let messages = room(client, room_id)
        .messages(options)
        .await
        .expect("messages");
    let mut contents: Vec<Value> = messages
        .chunk
        .iter()
        .filter_map(|event| serde_json::from_str::<Value>(event.raw().json().get()).ok())
        .filter(|event| event["type"] == "m.room.message")
        .map(|event| event["content"].clone())
        .collect();
    contents.reverse();
    ROOM_MESSAGES.store(contents.len(), Ordering::SeqCst);
    contents
}

/// How many posts in the room were taken back (redacted).
pub async fn redacted_count(client: &Client, room_id: &str) -> usize {
    let mut options = MessagesOptions::backward();
    options.limit = 500u32.into();
    let messages = room(client, room_id)
        .messages(options)
        .await
        .expect("messages");
    messages
        .chunk
        .iter()
        .filter_map(|event| serde_json::from_str::<Value>(event.raw().json().get()).ok())
        .filter(|event| event["type"] == "m.room.redaction")
        .count()
}

/// Waits for a reminder in the room and returns its event id.
pub async fn wait_for_reminder(client: &Client, room_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        client
            .sync_once(SyncSettings::default().timeout(Duration::from_millis(500)))
            .await
            .expect("sync");
        let mut options = MessagesOptions::backward();
        options.limit = 100u32.into();
        let messages = room(client, room_id)
            .messages(options)
            .await
            .expect("messages");
        for event in &messages.chunk {
            let Ok(json) = serde_json::from_str::<Value>(event.raw().json().get()) else {
                continue;
            };
            if json["content"]["uk.campaignsafe.checkin"]["event"] == "reminder" {
                return json["event_id"].as_str().unwrap().to_owned();
            }
        }
        assert!(Instant::now() < deadline, "no reminder reached the room");
    }
}

pub async fn send(client: &Client, room_id: &str, content: RoomMessageEventContent) {
    room(client, room_id)
        .send(content)
        .await
        .expect("volunteer message");
}

/// Any message content, as a client that is not the app may send it.
pub async fn send_raw(client: &Client, room_id: &str, content: Value) {
    room(client, room_id)
        .send_raw("m.room.message", content)
        .await
        .expect("raw message");
}

/// `count` plain messages ("ok 0", "ok 1", ...) as fast as the server takes them, 25 at a
/// time: a burst a busy room could see.
pub async fn send_many(client: &Client, room_id: &str, count: usize) {
    for chunk in (0..count).collect::<Vec<usize>>().chunks(25) {
        let sends: Vec<_> = chunk
            .iter()
            .map(|i| {
                let (client, room_id, i) = (client.clone(), room_id.to_owned(), *i);
                tokio::spawn(async move {
                    send_raw(
                        &client,
                        &room_id,
                        json!({"msgtype": "m.text", "body": format!("ok {i}")}),
                    )
                    .await
                })
            })
            .collect();
        for send in sends {
            send.await.expect("a burst message was sent");
        }
    }
}

/// A reply, as Element sends one: the quoted lines, then the words.
pub async fn reply(client: &Client, room_id: &str, to: &str, words: &str) {
    let content = json!({
        "msgtype": "m.text",
        "body": format!("> <@someone:localhost> reminder\n\n{words}"),
        "m.relates_to": { "m.in_reply_to": { "event_id": to } }
    });
    room(client, room_id)
        .send_raw("m.room.message", content)
        .await
        .expect("reply");
}

pub async fn react(client: &Client, room_id: &str, to: &str, key: &str) {
    let content =
        json!({ "m.relates_to": { "rel_type": "m.annotation", "event_id": to, "key": key } });
    room(client, room_id)
        .send_raw("m.reaction", content)
        .await
        .expect("reaction");
}

/// Another session's side of a comparison of numbers (issue 24): the client syncs in the
/// background and keeps the verification requests it is sent, for the test to answer.
pub struct Verifier {
    pub client: Client,
    requests: std::sync::Arc<std::sync::Mutex<Vec<VerificationRequest>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sync: tokio::task::JoinHandle<()>,
}

impl Verifier {
    pub fn new(client: &Client) -> Self {
        use matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent;
        let requests: std::sync::Arc<std::sync::Mutex<Vec<VerificationRequest>>> =
            Default::default();
        let kept = requests.clone();
        client.add_event_handler(
            move |event: ToDeviceKeyVerificationRequestEvent, client: Client| {
                let kept = kept.clone();
                async move {
                    if let Some(request) = client
                        .encryption()
                        .get_verification_request(&event.sender, &event.content.transaction_id)
                        .await
                    {
                        kept.lock().unwrap().push(request);
                    }
                }
            },
        );
        let syncing = client.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let sync = tokio::spawn(async move {
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                let settings = SyncSettings::default().timeout(Duration::from_millis(500));
                if syncing.sync_once(settings).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        Self {
            client: client.clone(),
            requests,
            stop,
            sync,
        }
    }

    /// The next request this session is sent.
    pub async fn next_request(&self, what: &str) -> VerificationRequest {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(request) = {
                let mut requests = self.requests.lock().unwrap();
                (!requests.is_empty()).then(|| requests.remove(0))
            } {
                return request;
            }
            assert!(Instant::now() < deadline, "waited 60 s for: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The comparison `request` turned into, accepted on this side if the other started it.
    pub async fn sas(request: &VerificationRequest, what: &str) -> SasVerification {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let VerificationRequestState::Transitioned { verification } = request.state() {
                let sas = verification.sas().expect("a comparison of numbers");
                if !sas.we_started() {
                    sas.accept().await.expect("this side accepts");
                }
                return sas;
            }
            assert!(
                Instant::now() < deadline,
                "waited 60 s for: {what} (the request is {:?})",
                request.state()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Verifier {
    /// Stops the background sync between two requests, so the test can sync the client
    /// itself again.
    pub async fn finish(self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = tokio::time::timeout(Duration::from_secs(30), &mut { self.sync }).await;
    }
}
