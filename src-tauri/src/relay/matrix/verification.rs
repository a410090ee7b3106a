//! Comparing numbers (interactive verification by short authentication string, SAS): this
//! device confirmed with another of the user's sessions, or a teammate verified with one of
//! theirs (issue 24). Numbers are shown by default, since people find them easier to read
//! out than emoji (MSC4405); the pictures are there for who prefers them.
//!
//! One comparison at a time. Requests come over to-device messages, from anyone on the
//! server: only the user's own sessions and members of the device's teams are heard, and a
//! request that comes while another comparison runs is declined.

use std::sync::{Arc, Mutex, Weak};

use futures_util::StreamExt;
use matrix_sdk::encryption::verification::{
    CancelInfo, SasState, SasVerification, Verification, VerificationRequest,
    VerificationRequestState,
};
use matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent;
use matrix_sdk::ruma::events::key::verification::{cancel::CancelCode, VerificationMethod};
use matrix_sdk::ruma::{DeviceId, UserId};
use matrix_sdk::Client;
use serde::Serialize;

use super::{client::shown_name, roster, teams, TeamService, TeamStatus};
use crate::changes::Changed;
use crate::relay::{invalid, RelayError};

/// Where a comparison stands, as the Team screen says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Someone asks to compare numbers with this device: accept or decline.
    Asked,
    /// This device asked; the other session has not answered yet.
    Waiting,
    /// Both agreed; the keys are being exchanged.
    Starting,
    /// The numbers are on both screens: the user says whether they match.
    Compare,
    /// This side said they match; waiting for the other side to say so too.
    Confirmed,
    Done,
    Ended,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Picture {
    pub symbol: String,
    pub name: String,
}

/// A comparison of numbers, as the Team screen shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// With another session of the user's own account (to confirm this device).
    pub own_session: bool,
    pub user_id: String,
    /// The person, by the name their team rooms show.
    pub name: String,
    /// The other session's name, once known (its owner chose it: cleaned for the screen).
    pub session: Option<String>,
    pub stage: Stage,
    pub we_asked: bool,
    /// The three numbers, once both sides have exchanged keys.
    pub numbers: Option<[u16; 3]>,
    /// The same as seven pictures with their names.
    pub pictures: Vec<Picture>,
    /// Why it ended without a match, in words a person can act on.
    pub ended: Option<String>,
}

struct Tracked {
    request: VerificationRequest,
    name: String,
    /// The count of finished syncs when it ended, once this device saw it end.
    syncs_at_end: Option<u64>,
}

/// The one comparison this device follows (kept after it ends, so its outcome stays on
/// screen until the user closes it or starts another).
#[derive(Default)]
pub(super) struct Comparisons(Mutex<Option<Tracked>>);

impl Comparisons {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Tracked>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn request(&self) -> Option<VerificationRequest> {
        self.lock().as_ref().map(|t| t.request.clone())
    }

    fn note_end(&self, syncs_done: u64) {
        if let Some(tracked) = self.lock().as_mut() {
            tracked.syncs_at_end.get_or_insert(syncs_done);
        }
    }

    fn syncs_at_end(&self) -> Option<u64> {
        self.lock().as_ref().and_then(|t| t.syncs_at_end)
    }

    /// A comparison is under way (asked, or running, and not ended).
    fn running(&self) -> bool {
        self.lock().as_ref().is_some_and(|t| {
            !t.request.is_done() && !t.request.is_cancelled() && !sas_ended(&t.request)
        })
    }

    pub(super) fn view(&self) -> Option<Comparison> {
        self.lock().as_ref().map(view)
    }
}

fn sas_of(request: &VerificationRequest) -> Option<SasVerification> {
    match request.state() {
        VerificationRequestState::Transitioned { verification } => verification.sas(),
        _ => None,
    }
}

fn sas_ended(request: &VerificationRequest) -> bool {
    sas_of(request).is_some_and(|sas| sas.is_done() || sas.is_cancelled())
}

fn view(tracked: &Tracked) -> Comparison {
    let request = &tracked.request;
    let own_session = request.is_self_verification();
    let mut comparison = Comparison {
        own_session,
        user_id: request.other_user_id().to_string(),
        name: tracked.name.clone(),
        session: None,
        stage: Stage::Waiting,
        we_asked: request.we_started(),
        numbers: None,
        pictures: Vec::new(),
        ended: None,
    };
    match request.state() {
        VerificationRequestState::Created { .. } => {}
        VerificationRequestState::Requested {
            other_device_data, ..
        } => {
            comparison.session = other_device_data.display_name().map(shown_name);
            comparison.stage = Stage::Asked;
        }
        VerificationRequestState::Ready {
            other_device_data, ..
        } => {
            comparison.session = other_device_data.display_name().map(shown_name);
            comparison.stage = Stage::Starting;
        }
        VerificationRequestState::Transitioned { verification } => match verification.sas() {
            Some(sas) => {
                comparison.session = sas.other_device().display_name().map(shown_name);
                sas_view(&sas, tracked, &mut comparison);
            }
            None => {
                comparison.stage = Stage::Ended;
                comparison.ended =
                        Some("the other session chose another way to verify (a QR code), which this app does not offer. Choose “Compare numbers” there.".into());
            }
        },
        VerificationRequestState::Done => comparison.stage = Stage::Done,
        VerificationRequestState::Cancelled(info) => {
            comparison.stage = Stage::Ended;
            comparison.ended = Some(ended_in_words(&info, &tracked.name, own_session));
        }
    }
    comparison
}

fn sas_view(sas: &SasVerification, tracked: &Tracked, comparison: &mut Comparison) {
    match sas.state() {
        SasState::Created { .. } | SasState::Started { .. } | SasState::Accepted { .. } => {
            comparison.stage = Stage::Starting;
        }
        SasState::KeysExchanged { emojis, decimals } => {
            comparison.stage = Stage::Compare;
            comparison.numbers = Some([decimals.0, decimals.1, decimals.2]);
            comparison.pictures = emojis
                .map(|e| {
                    e.emojis
                        .iter()
                        .map(|emoji| Picture {
                            symbol: emoji.symbol.to_owned(),
                            name: emoji.description.to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
        SasState::Confirmed => comparison.stage = Stage::Confirmed,
        SasState::Done { .. } => comparison.stage = Stage::Done,
        SasState::Cancelled(info) => {
            comparison.stage = Stage::Ended;
            comparison.ended = Some(ended_in_words(&info, &tracked.name, comparison.own_session));
        }
    }
}

/// Why a comparison ended, for the person who has to decide what to do next.
fn ended_in_words(info: &CancelInfo, name: &str, own_session: bool) -> String {
    let other = if own_session {
        "your other session".to_owned()
    } else {
        name.to_owned()
    };
    match info.cancel_code() {
        CancelCode::MismatchedSas | CancelCode::KeyMismatch | CancelCode::MismatchedCommitment => {
            "The numbers did not match, so nothing was confirmed. Try once more, reading them out side by side; if they differ again, someone may be between the two sessions: tell your organiser and do not use this device for the team until it is checked.".into()
        }
        CancelCode::Timeout => format!("It took too long, so the comparison stopped. Start again when {other} is at hand."),
        CancelCode::User if info.cancelled_by_us() => "You stopped the comparison. Nothing was confirmed.".into(),
        CancelCode::User => format!("{} stopped the comparison. Nothing was confirmed.", capitalised(&other)),
        CancelCode::Accepted => "Another of your sessions answered this request, so this one stopped.".into(),
        _ => format!("The comparison stopped ({}). Nothing was confirmed; start again.", shown_name(info.reason())),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Only SAS: this app shows numbers (and pictures), not QR codes.
fn methods() -> Vec<VerificationMethod> {
    vec![VerificationMethod::SasV1]
}

/// The name the device's team rooms show for `user`, or None when `user` is in none of them
/// (a request from a stranger is not heard).
async fn teammate_name(service: &TeamService, client: &Client, user: &UserId) -> Option<String> {
    let teams = teams::team_rooms(&service.database).ok()?;
    for team in teams {
        let Ok(room_id) = <&matrix_sdk::ruma::RoomId>::try_from(team.room_id.as_str()) else {
            continue;
        };
        let Some(room) = client.get_room(room_id) else {
            continue;
        };
        // By the store's list of ids: a member event the SDK cannot read still counts.
        if roster::has_joined(client, &room, user).await {
            return Some(roster::name_in(&room, user).await);
        }
    }
    None
}

/// Hears verification requests sent to this device. Registered once per client; holds the
/// service weakly, so a client that is let go does not keep the service alive.
pub(super) fn listen(service: &Arc<TeamService>, client: &Client) {
    let service: Weak<TeamService> = Arc::downgrade(service);
    client.add_event_handler(
        move |event: ToDeviceKeyVerificationRequestEvent, client: Client| {
            let service = service.clone();
            async move {
                let Some(service) = service.upgrade() else {
                    return;
                };
                let Some(request) = client
                    .encryption()
                    .get_verification_request(&event.sender, &event.content.transaction_id)
                    .await
                else {
                    return;
                };
                heard(&service, &client, request).await;
            }
        },
    );
}

async fn heard(service: &Arc<TeamService>, client: &Client, request: VerificationRequest) {
    let own = request.is_self_verification();
    let name = if own {
        Some("You".to_owned())
    } else {
        teammate_name(service, client, request.other_user_id()).await
    };
    let Some(name) = name else {
        tracing::info!(sender = %request.other_user_id(), "a verification request from someone in none of this device's teams was not heard");
        let _ = request.cancel().await;
        return;
    };
    if service.comparisons.running() {
        tracing::info!("a verification request came during another comparison: declined");
        let _ = request.cancel().await;
        return;
    }
    follow(service, client, request, name.clone());
    service.announce(Changed::Team);
    // The answer is on the Team screen, which may not be open: the desktop is told.
    service.announce(Changed::ComparisonAsked {
        teammate: (!own).then_some(name),
    });
}

/// Keeps `request` as the comparison on screen and moves it along as both sides answer.
fn follow(service: &Arc<TeamService>, client: &Client, request: VerificationRequest, name: String) {
    *service.comparisons.lock() = Some(Tracked {
        request: request.clone(),
        name,
        syncs_at_end: None,
    });
    let service = Arc::downgrade(service);
    let client = client.clone();
    let runtime = match service.upgrade() {
        Some(service) => service.runtime().clone(),
        None => return,
    };
    runtime.spawn(async move {
        let mut changes = std::pin::pin!(request.changes());
        while let Some(state) = changes.next().await {
            let Some(service) = service.upgrade() else {
                return;
            };
            service.announce(Changed::Team);
            match state {
                VerificationRequestState::Ready { .. } if request.we_started() => {
                    if let Err(error) = request.start_sas().await {
                        tracing::warn!("the comparison could not start: {error}");
                    }
                }
                VerificationRequestState::Transitioned {
                    verification: Verification::SasV1(sas),
                } => {
                    follow_sas(&service, &client, sas).await;
                    return;
                }
                VerificationRequestState::Done | VerificationRequestState::Cancelled(_) => return,
                _ => {}
            }
        }
    });
}

async fn follow_sas(service: &Arc<TeamService>, client: &Client, sas: SasVerification) {
    if !sas.we_started() {
        if let Err(error) = sas.accept().await {
            tracing::warn!("the comparison was not accepted: {error}");
        }
    }
    let mut changes = std::pin::pin!(sas.changes());
    while let Some(state) = changes.next().await {
        service.announce(Changed::Team);
        match state {
            SasState::Done { .. } => {
                service.comparisons.note_end(*service.syncs_done.borrow());
                tracing::info!(user = %sas.other_user_id(), "numbers compared and matched");
                if sas.is_self_verification() {
                    service.confirmed_by_comparison(client).await;
                }
                service.announce(Changed::Team);
                return;
            }
            SasState::Cancelled(info) => {
                service.comparisons.note_end(*service.syncs_done.borrow());
                tracing::info!(reason = info.reason(), "the comparison ended");
                return;
            }
            _ => {}
        }
    }
}

impl TeamService {
    /// Starts comparing numbers: with another of the user's own sessions (no `user_id`), to
    /// confirm this device; or with the session `device_id` of the teammate `user_id`.
    pub async fn start_comparison(
        self: &Arc<Self>,
        user_id: Option<&str>,
        device_id: Option<&str>,
    ) -> Result<TeamStatus, RelayError> {
        let client = self.client().await?;
        if self.comparisons.running() {
            return Err(invalid(
                "comparison",
                "Compare numbers",
                "a comparison is already under way: finish it or stop it first.",
            ));
        }
        let (request, name) = match user_id.map(str::trim).filter(|u| !u.is_empty()) {
            None => (self.ask_own_sessions(&client).await?, "You".to_owned()),
            Some(user) => self.ask_teammate(&client, user, device_id).await?,
        };
        follow(self, &client, request, name);
        self.announce(Changed::Team);
        self.status().await
    }

    async fn ask_own_sessions(&self, client: &Client) -> Result<VerificationRequest, RelayError> {
        if super::recovery::is_confirmed(client).await == Some(true) {
            return Err(invalid(
                "comparison",
                "Compare numbers",
                "this device is already confirmed.",
            ));
        }
        let own = client.user_id().ok_or(RelayError::SignedOut)?.to_owned();
        let identity = client
            .encryption()
            .get_user_identity(&own)
            .await
            .map_err(|error| RelayError::Refused(format!("your keys cannot be read: {error}")))?
            .ok_or_else(|| {
                invalid(
                    "comparison",
                    "Compare numbers",
                    "your account has no cross-signing yet, so there is no other session to compare with. Sign in to Element on your phone first; it sets it up.",
                )
            })?;
        identity
            .request_verification_with_methods(methods())
            .await
            .map_err(|error| {
                RelayError::Refused(format!(
                    "the request to compare numbers was not sent: {error}"
                ))
            })
    }

    async fn ask_teammate(
        self: &Arc<Self>,
        client: &Client,
        user: &str,
        device_id: Option<&str>,
    ) -> Result<(VerificationRequest, String), RelayError> {
        let unknown = || {
            invalid(
                "userId",
                "Teammate",
                "that person is not in any of your teams.",
            )
        };
        let user = UserId::parse(user).map_err(|_| unknown())?;
        if Some(user.as_ref()) == client.user_id() {
            return Err(invalid(
                "userId",
                "Teammate",
                "that is you: to confirm this device, compare numbers with your own other session.",
            ));
        }
        let name = teammate_name(self, client, &user)
            .await
            .ok_or_else(unknown)?;
        let no_session = || {
            invalid(
                "deviceId",
                "Session",
                format!(
                    "choose one of {}'s sessions from the list.",
                    crate::bidi::isolated(&name)
                ),
            )
        };
        let device_id = device_id
            .map(str::trim)
            .filter(|d| !d.is_empty() && d.len() <= 255)
            .ok_or_else(no_session)?;
        let device = client
            .encryption()
            .get_device(&user, <&DeviceId>::from(device_id))
            .await
            .map_err(|error| RelayError::Refused(format!("their keys cannot be read: {error}")))?
            .ok_or_else(no_session)?;
        let request = device
            .request_verification_with_methods(methods())
            .await
            .map_err(|error| {
                RelayError::Refused(format!(
                    "the request to compare numbers was not sent: {error}"
                ))
            })?;
        Ok((request, name))
    }

    /// Accepts the comparison someone asked for.
    pub async fn accept_comparison(&self) -> Result<TeamStatus, RelayError> {
        let request = self.comparisons.request().ok_or_else(none_running)?;
        if !matches!(request.state(), VerificationRequestState::Requested { .. }) {
            return Err(none_running());
        }
        request
            .accept_with_methods(methods())
            .await
            .map_err(|error| {
                RelayError::Refused(format!("the comparison could not be accepted: {error}"))
            })?;
        self.status().await
    }

    /// The user's answer: the numbers on both screens match, or they do not.
    pub async fn answer_comparison(&self, matched: bool) -> Result<TeamStatus, RelayError> {
        let request = self.comparisons.request().ok_or_else(none_running)?;
        let sas = sas_of(&request)
            .filter(|sas| sas.can_be_presented() && !sas.is_done() && !sas.is_cancelled())
            .ok_or_else(none_running)?;
        let answered = if matched {
            sas.confirm().await
        } else {
            sas.mismatch().await
        };
        answered.map_err(|error| {
            RelayError::Refused(format!(
                "the answer did not reach the other session: {error}"
            ))
        })?;
        self.status().await
    }

    /// Stops the comparison (telling the other side), or closes one that has ended.
    pub async fn stop_comparison(&self) -> Result<TeamStatus, RelayError> {
        let tracked = self.comparisons.lock().take();
        if let Some(tracked) = tracked {
            let request = tracked.request;
            if let Some(sas) = sas_of(&request).filter(|s| !s.is_done() && !s.is_cancelled()) {
                let _ = sas.cancel().await;
            } else if !request.is_done() && !request.is_cancelled() {
                let _ = request.cancel().await;
            }
        }
        self.announce(Changed::Team);
        self.status().await
    }

    /// The other session signs this device once both said the numbers match; the signature
    /// reaches this device with its next key update. Then, as with the recovery key, earlier
    /// posts are read from the key backup and the connection follows the confirmation.
    async fn confirmed_by_comparison(self: &Arc<Self>, client: &Client) {
        let Some(own) = client.user_id().map(ToOwned::to_owned) else {
            return;
        };
        for _ in 0..60 {
            if super::recovery::is_confirmed(client).await == Some(true) {
                break;
            }
            let _ = client.encryption().request_user_identity(&own).await;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        // The key backup's key comes from the other session too (a secret it sends on).
        for _ in 0..20 {
            if client.encryption().backups().are_enabled().await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        super::recovery::download_backed_up_keys(client).await;
        super::unreadable::retry(self, client).await;
        // Following the confirmation builds the client again, which would drop a comparison
        // the user has started since (with a teammate): it waits for that one to end, but
        // not past the ten minutes after which a comparison times out anyway.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while self.comparisons.running() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        self.let_the_ended_comparison_out().await;
        self.follow_confirmation(client).await;
    }

    /// A comparison that ended while the SDK handled a sync leaves its last messages and the
    /// teammate's signature queued in the client, sent when that sync returns: building the
    /// client again before then would lose them (the teammate never shown as verified).
    /// So this waits for the sync that was running when it ended, or the next one (bounded:
    /// one long poll and a margin, in case the server is out of reach).
    async fn let_the_ended_comparison_out(&self) {
        let mut syncs_done = self.syncs_done.subscribe();
        let now = *syncs_done.borrow();
        let seen = self.comparisons.syncs_at_end().unwrap_or(now).min(now);
        let finished = syncs_done.wait_for(|done| *done > seen);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(45), finished).await;
    }
}

fn none_running() -> RelayError {
    invalid(
        "comparison",
        "Compare numbers",
        "there is no comparison waiting for that answer; start one again.",
    )
}
