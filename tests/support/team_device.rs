//! One app backend as the team tests need it (database, scheduler, alarms and team relay,
//! with a clock the test can move on).

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use campaign_safe_lib::alarms::hub::{AlarmHub, Headless};
use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::changes::{Changed, Changes};
use campaign_safe_lib::checkins::runner::{Runner, SchedulerHandle};
use campaign_safe_lib::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use campaign_safe_lib::notify::InAppOnly;
use campaign_safe_lib::relay::matrix::{TeamService, TeamStatus};
use campaign_safe_lib::relay::outbox::TeamPosts;
use campaign_safe_lib::storage::Database;
use campaign_safe_lib::time::Clock;

use super::synapse::Synapse;

/// The wall clock, moved on by the test.
#[derive(Default)]
pub struct ShiftClock(AtomicI64);

impl Clock for ShiftClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.0.load(Ordering::SeqCst))
    }
}

pub struct Device {
    _dir: tempfile::TempDir,
    pub database: Arc<Database>,
    pub clock: Arc<ShiftClock>,
    pub hub: Arc<AlarmHub>,
    scheduler: SchedulerHandle,
    /// The device's one channel of changes, as the app's commands use it.
    pub changes: Changes,
    pub team: Arc<TeamService>,
    pub user_id: String,
    /// What the sign-in answered (an account made here carries its recovery key once).
    pub signed_in: TeamStatus,
}

/// Waits for `check`, polling; fails naming `what` if it does not come in time.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_until_seen(what, within, || async {
        if check().await {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    })
    .await;
}

/// Waits for `look` to answer `Ok`, polling; fails naming `what` and what it saw last.
pub async fn wait_until_seen<F, Fut>(what: &str, within: Duration, look: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + within;
    loop {
        let seen = match look().await {
            Ok(()) => return,
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "waited {within:?} for: {what}; last seen: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Device {
    /// A backend that registers `name` with the server's token and signs in.
    pub async fn new(name: &str, server: &Synapse) -> Self {
        Self::signed_in(name, server, Some(&server.token)).await
    }

    /// A backend signed in as `name`; with a token it registers the account first.
    pub async fn signed_in(name: &str, server: &Synapse, token: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = Arc::new(
            Database::open_in(
                dir.path(),
                &campaign_safe_lib::vault::DataKey::generate().unwrap(),
            )
            .unwrap(),
        );
        let clock = Arc::new(ShiftClock::default());
        let scheduler = SchedulerHandle::default();
        let changes = Changes::default();
        changes.listen(Arc::new(scheduler.clone()));
        let hub = AlarmHub::new(
            database.clone(),
            clock.clone(),
            Arc::new(InAppOnly),
            Arc::new(Headless),
            Arc::new(TeamPosts),
            changes.clone(),
        );
        let team = TeamService::new(
            database.clone(),
            dir.path().to_owned(),
            clock.clone(),
            tokio::runtime::Handle::current(),
            changes.clone(),
        );
        Runner {
            database: database.clone(),
            clock: clock.clone(),
            sink: Arc::new(TeamPosts),
            changes: changes.clone(),
            handle: scheduler.clone(),
        }
        .spawn()
        .unwrap();
        let status = team
            .sign_in(
                &server.url(),
                name,
                &format!("{name}-password"),
                token,
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("{name} could not register and sign in: {e}"));
        let user_id = status.user_id.clone().expect("signed in");
        Self {
            _dir: dir,
            database,
            clock,
            hub,
            scheduler,
            changes,
            team,
            user_id,
            signed_in: status,
        }
    }

    /// Waits for an invitation (a bound of 60 s, not a pause), then joins the team by its
    /// link, calling it `name` here.
    pub async fn join_when_invited(&self, link: &str, name: &str) {
        wait_until(
            &format!("{}'s invitation arrives", self.user_id),
            Duration::from_secs(60),
            || async {
                self.team
                    .status()
                    .await
                    .map(|s| !s.invitations.is_empty())
                    .unwrap_or(false)
            },
        )
        .await;
        self.team.join_team(link, name).await.expect("join");
    }

    /// This device's Matrix device id.
    pub fn device_id(&self) -> matrix_sdk::ruma::OwnedDeviceId {
        let id: String = self
            .database
            .reader()
            .query_row("SELECT device_id FROM team_account", [], |r| r.get(0))
            .unwrap();
        id.into()
    }

    /// What the check-in commands do after a change.
    fn changed(&self) {
        self.changes.announce(Changed::Sessions);
    }

    /// What the do-not-knock commands do after a change: the relay sends it.
    pub fn doors_changed(&self) {
        self.changes.announce(Changed::DoNotKnock);
    }

    /// Starts a canvass of `people` (check in every 15 minutes, alarm at once when one is
    /// missed), reminding `lead` minutes before each check-in.
    pub fn start(&self, title: &str, people: &[&str], place: &str, notes: &str, lead: u32) -> i64 {
        let now = self.clock.now();
        let new = NewSession {
            kind: Kind::Canvass,
            mode: Mode::Me,
            title: title.into(),
            participants: people.iter().map(|p| (*p).to_owned()).collect(),
            place: place.into(),
            notes: notes.into(),
            escalation: vec![EscalationContact {
                name: "Office".into(),
                phone: "01632 960 123".into(),
                relationship: String::new(),
            }],
            ends_at: Some(now + chrono::Duration::hours(4)),
            interval_minutes: Some(15),
            reminder_lead_minutes: lead,
            grace_minutes: 0,
        };
        // Not yet a word to the scheduler: the session is shared before it looks.
        checkins::start(
            &mut self.database.conn(),
            &new,
            now,
            &checkins::Actor::here(),
            &TeamPosts,
        )
        .unwrap()
    }

    pub fn share(&self, session: i64, room: &str, chat_members: &[String]) {
        self.team.share(session, room, chat_members).expect("share");
        self.changed();
    }

    /// The do-not-knock doors on this device's list.
    pub fn doors(&self) -> Vec<String> {
        campaign_safe_lib::donotknock::list(&self.database.reader(), self.clock.now())
            .unwrap()
            .iter()
            .map(|e| e.address())
            .collect()
    }

    /// This device's id for the session called `title` (its own, or tracked for the team).
    pub fn session(&self, title: &str) -> Option<i64> {
        self.database
            .reader()
            .query_row(
                "SELECT id FROM checkin_session WHERE title = ?1 AND ended_at IS NULL",
                [title],
                |r| r.get(0),
            )
            .ok()
    }

    pub fn next_due(&self, title: &str) -> i64 {
        self.database
            .reader()
            .query_row(
                "SELECT next_due_at FROM checkin_session WHERE title = ?1",
                [title],
                |r| r.get(0),
            )
            .unwrap_or(0)
    }

    fn id(&self, title: &str) -> i64 {
        self.session(title)
            .unwrap_or_else(|| panic!("{} has no session {title}", self.user_id))
    }

    pub fn check_in(&self, title: &str) {
        checkins::check_in(
            &mut self.database.conn(),
            self.id(title),
            self.clock.now(),
            &checkins::Actor::here(),
            &TeamPosts,
        )
        .unwrap();
        self.changed();
    }

    /// A check-in this device may or may not be allowed to make.
    pub fn try_check_in(&self, title: &str) -> Result<(), checkins::CheckinError> {
        checkins::check_in(
            &mut self.database.conn(),
            self.id(title),
            self.clock.now(),
            &checkins::Actor::here(),
            &TeamPosts,
        )
    }

    pub fn acknowledge(&self, title: &str) {
        checkins::acknowledge(
            &mut self.database.conn(),
            self.id(title),
            self.clock.now(),
            &checkins::Actor::here(),
            &TeamPosts,
        )
        .unwrap();
        self.changed();
    }

    pub fn end(&self, title: &str) {
        checkins::end_safely(
            &mut self.database.conn(),
            self.id(title),
            self.clock.now(),
            &checkins::Actor::here(),
            &TeamPosts,
        )
        .unwrap();
        self.changed();
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.clock.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
        self.scheduler.poke();
    }

    /// Puts the clock back to the server's time: a session started later must not be dated
    /// ahead of the server, or the other devices refuse it as dated in the future.
    #[allow(dead_code)] // The load benchmark's; no test moves a clock back.
    pub fn rewind_clock(&self) {
        self.clock.0.store(0, Ordering::SeqCst);
        self.scheduler.poke();
    }

    pub fn alarm_kinds(&self) -> Vec<AlarmKind> {
        self.hub.state().alarms.iter().map(|a| a.kind).collect()
    }

    pub fn events(&self, title: &str, kind: &str) -> usize {
        self.database
            .reader()
            .query_row(
                "SELECT count(*) FROM checkin_event e JOIN checkin_session s ON s.id = e.session_id WHERE s.title = ?1 AND e.kind = ?2",
                [title, kind],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0) as usize
    }

    /// Who made the last check-in and how: "@vic:localhost (chat)".
    pub fn last_check_in_by(&self, title: &str) -> String {
        self.database
            .reader()
            .query_row(
                "SELECT e.by_whom || ' (' || coalesce(e.via, '') || ')' FROM checkin_event e
                 JOIN checkin_session s ON s.id = e.session_id
                 WHERE s.title = ?1 AND e.kind = 'checked_in' ORDER BY e.id DESC LIMIT 1",
                [title],
                |r| r.get(0),
            )
            .unwrap_or_default()
    }

    pub fn outbox_waiting(&self) -> i64 {
        self.database
            .reader()
            .query_row(
                "SELECT count(*) FROM team_outbox WHERE sent_at IS NULL AND dropped IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// What the session page says about changes from the room that were not made.
    pub fn ignored(&self, title: &str) -> Vec<String> {
        let Some(id) = self.session(title) else {
            return Vec::new();
        };
        campaign_safe_lib::checkins::views::detail(&self.database.reader(), id, self.clock.now())
            .map(|detail| {
                detail
                    .timeline
                    .into_iter()
                    .filter(|e| e.event.kind == "ignored")
                    .map(|e| e.text)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sessions this device tracks for other members, still running.
    pub fn tracked_sessions(&self) -> i64 {
        self.database
            .reader()
            .query_row(
                "SELECT count(*) FROM checkin_session WHERE origin = 'team' AND ended_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Whether this device has heard `user`'s app in a team room (it ranks them for posting
    /// a missed check-in).
    pub fn knows_app_of(&self, user: &str) -> bool {
        self.database
            .reader()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM team_event_seen WHERE sender = ?1 AND app = 1)",
                [user],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Events from `user` this device has read from its team rooms.
    pub fn events_seen_from(&self, user: &str) -> i64 {
        self.database
            .reader()
            .query_row(
                "SELECT count(*) FROM team_event_seen WHERE sender = ?1",
                [user],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// The outbox as it stands, for a failing wait to show.
    pub async fn report(&self) -> String {
        let rows: Vec<String> = self
            .database
            .reader()
            .prepare("SELECT id, kind, sent_at IS NOT NULL, dropped, attempts, last_error FROM team_outbox ORDER BY id DESC LIMIT 5")
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "#{} {} sent={} dropped={:?} attempts={} error={:?}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let status = self.team.status().await.map(|s| {
            format!(
                "{:?} {:?} last sync {:?}",
                s.connection, s.problem, s.last_sync
            )
        });
        format!("{}: {status:?}; outbox: {}", self.user_id, rows.join("; "))
    }

    /// The open alarms and the latest timeline entries, for a failed wait to say what it saw.
    pub fn alarm_state(&self) -> String {
        let timeline: Vec<String> = self
            .database
            .reader()
            .prepare(
                "SELECT kind || coalesce(' ' || by_whom, '') FROM checkin_event
                 ORDER BY id DESC LIMIT 8",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        format!(
            "{}: alarms {:?}; latest first: {}",
            self.user_id,
            self.alarm_kinds(),
            timeline.join(", ")
        )
    }

    /// As the Team screen's "Try again now": retry the server at once.
    pub fn reconnect(&self) {
        self.team.reconnect();
    }
}
