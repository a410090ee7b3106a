//! The team relay on Matrix (matrix-sdk): sign in, teams (end-to-end encrypted rooms),
//! members, and the loops that sync the room and send the outbox.
//!
//! Nothing here runs until a Matrix account is set up; the login and the SDK's encrypted
//! store survive restarts, and the access token and store passphrase stay in the database.

mod client;
mod heads;
mod identities;
mod members;
mod memory;
mod recovery;
mod room_events;
mod roster;
mod sync;
pub(crate) mod teams;
mod trust;
mod unreadable;
mod verification;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use matrix_sdk::Client;
use serde::Serialize;
use tokio::sync::Notify;

use super::{invalid, outbox, Connection, RelayError};
use crate::changes::{Changed, Changes, Listener};
use crate::storage::Database;
use crate::time::Clock;

pub use client::register;
pub use heads::FromRooms;
pub use identities::IdentityChange;
pub use roster::{Member, MemberDevice};
pub use unreadable::UnreadablePost;
pub use verification::{Comparison, Picture, Stage as ComparisonStage};

/// What the Team screen shows about the connection.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamStatus {
    pub connection: Connection,
    pub user_id: Option<String>,
    pub homeserver: Option<String>,
    pub last_sync: Option<DateTime<Utc>>,
    /// Posts waiting to go out.
    pub waiting: i64,
    /// Posts that came but cannot be read yet (their key has not come): tried again.
    pub unreadable: usize,
    /// The same posts: who sent each, when, and the running sessions it may be about.
    pub unreadable_posts: Vec<UnreadablePost>,
    /// Teammates whose identity changed and the user has not yet acknowledged it.
    pub identity_changes: Vec<IdentityChange>,
    /// The last thing that went wrong, in words a person can act on.
    pub problem: Option<String>,
    /// Whether this device is cross-signed by its owner (None when signed out or not yet
    /// known): Element users send nothing to a device that is not.
    pub device_confirmed: Option<bool>,
    /// The recovery key of an account the app has just made: only in the answer to that
    /// sign-in, so the user sees it once and writes it down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_key: Option<String>,
    /// The account's recovery key is kept in this record (the user chose so).
    pub recovery_key_kept: bool,
    /// A comparison of numbers under way (or just ended), with a teammate or another of
    /// the user's sessions.
    pub comparison: Option<Comparison>,
    pub teams: Vec<TeamView>,
    pub invitations: Vec<Invitation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    pub room_id: String,
    pub name: String,
    /// The invite link (matrix.to) and the same as QR code rows for phones.
    pub link: String,
    pub qr: Vec<String>,
    /// The team's duress word, for the organiser to pass on in person.
    pub duress: crate::relay::duress::DuressWord,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub room_id: String,
    pub inviter: String,
}

#[derive(Default)]
struct Live {
    connection: Option<Connection>,
    last_sync: Option<DateTime<Utc>>,
    problem: Option<String>,
}

/// The relay of this device: absent account, or a signed-in client with its loops.
pub struct TeamService {
    database: Arc<Database>,
    store_root: PathBuf,
    clock: Arc<dyn Clock>,
    runtime: tokio::runtime::Handle,
    /// Where what the room changed here is announced (the scheduler, alarms and window).
    changes: Changes,
    client: tokio::sync::Mutex<Option<Running>>,
    send_now: Arc<Notify>,
    /// Cuts a wait between attempts short ("Try again now").
    retry_now: Arc<Notify>,
    live: Arc<Mutex<Live>>,
    /// Posts waiting for the key that opens them.
    unreadable: unreadable::Unreadable,
    /// Teammates whose identity changed, as the watchers last said.
    identities: identities::Watched,
    /// The member events syncs brought, to mend member lists the SDK wrote over.
    members_seen: members::SeenMembers,
    /// The comparison of numbers this device follows.
    comparisons: verification::Comparisons,
    /// Team rooms already looked at for live location since the start (tried once each).
    live_location_rooms: Mutex<std::collections::HashSet<String>>,
    /// How many syncs have finished. What the SDK queues while it handles a sync (the last
    /// messages of a comparison, a teammate's signature) goes out before that sync returns.
    syncs_done: tokio::sync::watch::Sender<u64>,
}

struct Running {
    client: Client,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.loops {
            task.abort();
        }
    }
}

impl Listener for TeamService {
    /// A change may have queued a post: the send loop looks at once.
    fn heard(&self, what: &Changed) {
        if *what == Changed::Record {
            self.queue_record_head();
            return;
        }
        if matches!(
            what,
            Changed::Sessions | Changed::Alerted { .. } | Changed::DoNotKnock
        ) {
            self.send_now.notify_one();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl TeamService {
    pub fn new(
        database: Arc<Database>,
        data_dir: PathBuf,
        clock: Arc<dyn Clock>,
        runtime: tokio::runtime::Handle,
        changes: Changes,
    ) -> Arc<Self> {
        let service = Arc::new(Self {
            database,
            store_root: data_dir.join("matrix"),
            clock,
            runtime,
            changes: changes.clone(),
            client: tokio::sync::Mutex::new(None),
            send_now: Arc::new(Notify::new()),
            retry_now: Arc::new(Notify::new()),
            live: Arc::default(),
            unreadable: Default::default(),
            identities: Default::default(),
            members_seen: Default::default(),
            comparisons: Default::default(),
            live_location_rooms: Default::default(),
            syncs_done: tokio::sync::watch::Sender::new(0),
        });
        changes.listen(service.clone());
        // Signed in before: the scheduler holds the team's sessions while the rooms are read.
        if matches!(client::stored_account(&service.database), Ok(Some(_))) {
            service.reading_starts();
        }
        service
    }

    /// Alarms for sessions tracked for a team wait (at most this long) while the rooms are
    /// read after a start: a device away for days would otherwise ring for canvasses that
    /// ended or were checked in meanwhile. Own sessions never wait.
    const READING_HOLD: std::time::Duration = std::time::Duration::from_secs(30);

    /// The rooms are about to be read (a start, or a restore): alarms for tracked sessions
    /// wait until they are, or [`Self::READING_HOLD`] at the most.
    pub fn reading_starts(&self) {
        self.announce(Changed::TeamReading {
            until: Some(std::time::Instant::now() + Self::READING_HOLD),
        });
    }

    /// Tells everything that listens what the room changed here.
    fn announce(&self, what: Changed) {
        self.changes.announce(what);
    }

    /// This device's Matrix user and device, once signed in.
    fn account(&self) -> Option<(String, String)> {
        outbox::account(&self.database.reader()).ok().flatten()
    }

    fn set_live(&self, connection: Connection, problem: Option<String>) {
        let mut live = lock(&self.live);
        live.connection = Some(connection);
        live.problem = problem;
    }

    /// Signs back in with the stored login, if there is one. Started after the window is up.
    pub async fn restore(self: &Arc<Self>) {
        let stored = match client::stored_account(&self.database) {
            Ok(Some(stored)) => stored,
            Ok(None) => return,
            Err(error) => {
                tracing::error!("could not read the team account: {error}");
                return;
            }
        };
        self.set_live(Connection::Connecting, None);
        self.reading_starts();
        match client::restore(&self.store_root, &stored).await {
            Ok(client) => self.run(client).await,
            Err(error) => {
                tracing::warn!("team login not restored: {error}");
                self.set_live(Connection::Offline, Some(error.to_string()));
                self.announce(Changed::TeamReading { until: None });
            }
        }
    }

    /// Signs in (or, with a registration token, registers then signs in) on `homeserver`.
    pub async fn sign_in(
        self: &Arc<Self>,
        homeserver: &str,
        user: &str,
        password: &str,
        registration_token: Option<&str>,
        device_name: Option<&str>,
    ) -> Result<TeamStatus, RelayError> {
        if client::stored_account(&self.database)?.is_some() {
            return Err(invalid(
                "homeserver",
                "Team server",
                "this device is already signed in; sign out first to use another account.",
            ));
        }
        let url = client::homeserver_url(homeserver)?;
        if user.trim().is_empty() {
            return Err(invalid(
                "user",
                "User name",
                "enter your Matrix user name, such as sam or @sam:example.org.",
            ));
        }
        if password.is_empty() {
            return Err(invalid("password", "Password", "enter your password."));
        }
        let device_name = client::device_name(device_name)?;
        self.set_live(Connection::Connecting, None);
        let result = client::sign_in(
            &self.database,
            &self.store_root,
            &url,
            user.trim(),
            password,
            registration_token,
            &device_name,
            self.clock.now(),
        )
        .await;
        match result {
            Ok(client) => {
                let made_here = registration_token.is_some_and(|t| !t.trim().is_empty());
                let recovery = if made_here {
                    Some(recovery::set_up(&client).await)
                } else {
                    None
                };
                self.run(client.clone()).await;
                self.follow_confirmation(&client).await;
                let mut status = self.status().await?;
                match recovery {
                    Some(Ok(key)) => status.recovery_key = Some(key),
                    Some(Err(error)) => {
                        status.problem = Some(format!("{error}. Set up recovery in Element's encryption settings, or a new device of yours cannot confirm itself."));
                    }
                    None => {}
                }
                Ok(status)
            }
            Err(error) => {
                self.set_live(Connection::SignedOut, None);
                Err(error)
            }
        }
    }

    /// Starts the sync and send loops for `client`.
    async fn run(self: &Arc<Self>, client: Client) {
        let loops = sync::start(self.clone(), client.clone());
        *self.client.lock().await = Some(Running { client, loops });
        self.send_now.notify_one();
    }

    async fn client(&self) -> Result<Client, RelayError> {
        self.client
            .lock()
            .await
            .as_ref()
            .map(|running| running.client.clone())
            .ok_or(RelayError::SignedOut)
    }

    pub async fn status(&self) -> Result<TeamStatus, RelayError> {
        let account = client::stored_account(&self.database)?;
        let live = {
            let live = lock(&self.live);
            (
                live.connection.clone(),
                live.last_sync,
                live.problem.clone(),
            )
        };
        let waiting = outbox::waiting(&self.database.reader())?;
        let teams = teams::teams(&self.database)?;
        let rooms: Vec<String> = teams.iter().map(|team| team.room_id.clone()).collect();
        let (invitations, device_confirmed, unreadable_posts, identity_changes) =
            match self.client().await {
                Ok(client) => (
                    teams::invitations(&client).await,
                    recovery::is_confirmed(&client).await,
                    self.unreadable.posts(self, &client).await,
                    self.identities.changed(&rooms),
                ),
                Err(_) => (Vec::new(), None, Vec::new(), Vec::new()),
            };
        Ok(TeamStatus {
            connection: match (&account, live.0) {
                (None, _) => Connection::SignedOut,
                (Some(_), Some(connection)) => connection,
                (Some(_), None) => Connection::Connecting,
            },
            user_id: account.as_ref().map(|a| a.user_id.clone()),
            homeserver: account.as_ref().map(|a| a.homeserver.clone()),
            last_sync: live.1,
            waiting,
            unreadable: self.unreadable.count(),
            unreadable_posts,
            identity_changes,
            problem: live.2,
            device_confirmed,
            recovery_key: None,
            recovery_key_kept: account
                .as_ref()
                .and_then(|a| {
                    crate::settings::kept_recovery_key(&self.database.reader(), &a.user_id).ok()
                })
                .flatten()
                .is_some(),
            comparison: self.comparisons.view(),
            teams,
            invitations,
        })
    }

    /// A new team: an encrypted room with a neutral name.
    pub async fn create_team(&self, name: &str) -> Result<TeamView, RelayError> {
        let name = client::team_name(name)?;
        let client = self.client().await?;
        let view = teams::create_team(&self.database, &client, &name, self.clock.now()).await?;
        // The do-not-knock list kept so far goes to the new team at once.
        self.send_now.notify_one();
        Ok(view)
    }

    /// Joins a team from its invite link, room id or address.
    pub async fn join_team(&self, invite: &str, name: &str) -> Result<TeamView, RelayError> {
        let name = client::team_name(name)?;
        let client = self.client().await?;
        let view =
            teams::join_team(&self.database, &client, invite, &name, self.clock.now()).await?;
        self.send_now.notify_one();
        Ok(view)
    }

    /// Sets (or clears, when empty) the team's duress word, as typed; refused by its field.
    pub fn set_duress_word(&self, room_id: &str, typed: &str) -> Result<(), RelayError> {
        let word = crate::relay::duress::checked_word(typed)?;
        crate::relay::duress::set_word(
            &mut self.database.conn(),
            room_id,
            word.as_deref(),
            self.clock.now(),
        )?;
        self.announce(Changed::Team);
        self.send_now.notify_one();
        Ok(())
    }

    pub async fn invite(&self, room_id: &str, user_id: &str) -> Result<(), RelayError> {
        let client = self.client().await?;
        teams::invite(&client, room_id, user_id).await
    }

    pub async fn members(&self, room_id: &str) -> Result<Vec<Member>, RelayError> {
        let client = self.client().await?;
        // A list the SDK wrote over with an older one is fetched again before it is shown.
        if let Some(room) = <&matrix_sdk::ruma::RoomId>::try_from(room_id)
            .ok()
            .and_then(|id| client.get_room(id))
        {
            members::mend(self, &room).await;
        }
        roster::members(&client, room_id).await
    }

    pub async fn leave_team(&self, room_id: &str) -> Result<(), RelayError> {
        let client = self.client().await?;
        teams::leave(&self.database, &client, room_id, self.clock.now()).await?;
        self.announce(Changed::Sessions);
        self.announce(Changed::Team);
        Ok(())
    }

    /// Stops the loops and lets go of the client, keeping the login for the next start.
    pub async fn stop(&self) {
        self.client.lock().await.take();
        self.members_seen.forget_run();
        // As after a real restart, warnings come again from what the crypto store holds.
        self.identities.forget_run();
    }

    /// Signs out: the server forgets this device, and the login and its store are removed.
    pub async fn sign_out(&self) -> Result<(), RelayError> {
        let running = self.client.lock().await.take();
        if let Some(running) = &running {
            if let Err(error) = running.client.matrix_auth().logout().await {
                tracing::warn!("the team server did not confirm the sign-out: {error}");
            }
        }
        drop(running);
        client::forget_account(&self.database, &self.store_root, self.clock.now())?;
        self.set_live(Connection::SignedOut, None);
        self.announce(Changed::Sessions);
        self.announce(Changed::Team);
        Ok(())
    }

    /// Shares an active session with a team; the post goes out with the next send.
    pub fn share(
        &self,
        session_id: i64,
        room_id: &str,
        chat_members: &[String],
    ) -> Result<(), RelayError> {
        if !teams::team_rooms(&self.database)?
            .iter()
            .any(|t| t.room_id == room_id)
        {
            return Err(RelayError::UnknownTeam(room_id.to_owned()));
        }
        let owner = outbox::account(&self.database.reader())?
            .map(|(user, _)| user)
            .ok_or(RelayError::SignedOut)?;
        crate::checkins::shared::share(
            &mut self.database.conn(),
            session_id,
            room_id,
            &owner,
            chat_members,
            self.clock.now(),
            &outbox::TeamPosts,
        )
        .map_err(|error| match error {
            crate::checkins::CheckinError::Storage(error) => RelayError::Storage(error),
            other => invalid("sessionId", "Share with", other.to_string()),
        })?;
        self.announce(Changed::Sessions);
        Ok(())
    }

    /// Tries the server again now instead of after the current wait.
    pub fn reconnect(&self) {
        self.retry_now.notify_one();
        self.send_now.notify_one();
    }

    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }
}
