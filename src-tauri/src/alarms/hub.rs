//! The alarm hub: after anything changes a session, it reads the open alarms again, keeps a
//! desktop notification up for each of them (and only them), and tells the window.
//!
//! Notifications stay until they are answered or no longer true; one the desktop dropped by
//! itself is shown again, and a missed alarm comes back at each repeat even if it was
//! dismissed. Answers from a notification go through the same check-in functions as the
//! window's buttons.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{open, Alarm, AlarmKey, AlarmKind};
use crate::bidi::isolated;
use crate::changes::{Changed, Changes, Listener};
use crate::checkins::scheduler::{ACTION_ACKNOWLEDGE, ACTION_CHECK_IN, ACTION_SNOOZE};
use crate::checkins::{self, Actor, CheckinError, SessionSink, Via};
use crate::notify::{Notice, NoticeId, Notifier, Response, Urgency};
use crate::storage::Database;
use crate::time::Clock;

/// Who did it, in the session's timeline, when it was done from a desktop notification.
pub const BY_NOTIFICATION: &str = "notification";

/// A notice the desktop took away sooner than this after showing it is not shown again at
/// once (a daemon that drops everything would otherwise make a loop); it comes back at the
/// next repeat instead.
const SHORTEST_SHOWING: TimeDelta = TimeDelta::seconds(5);

/// One of the check-in changes a person makes here (`checkins::check_in`, …).
type LocalChange = fn(
    &mut rusqlite::Connection,
    i64,
    DateTime<Utc>,
    &Actor,
    &dyn SessionSink,
) -> Result<(), CheckinError>;

/// What the window is told after every change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmState {
    pub alarms: Vec<Alarm>,
    /// Alarms that are new or repeated: the window sounds for these.
    pub ring: Vec<String>,
    /// The desktop refused the last notice: the window says the in-app alarm is all there is.
    pub notifications_failed: bool,
    /// Alarms for shared sessions not yet posted to the team (the team server has not
    /// answered): the window says so, so nobody counts on the team having heard.
    pub unposted: i64,
    /// The app's clock now: countdowns in the window count from it.
    pub now: DateTime<Utc>,
}

/// Where the state goes: the app's window, or a recorder in tests.
pub trait AlarmObserver: Send + Sync {
    fn changed(&self, state: &AlarmState);
    /// A notification was clicked: bring the window forward on that session.
    fn open_session(&self, session_id: i64);
    /// A notification about the team was clicked: bring the window forward on the Team
    /// screen.
    fn open_team(&self) {}
}

/// An observer that shows nothing: for a backend with no window (tests, benchmarks, a
/// headless device).
pub struct Headless;

impl AlarmObserver for Headless {
    fn changed(&self, _: &AlarmState) {}
    fn open_session(&self, _: i64) {}
}

struct Shown {
    notice: NoticeId,
    shown_at: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    open: Vec<Alarm>,
    shown: HashMap<AlarmKey, Shown>,
    notifications_failed: bool,
}

pub struct AlarmHub {
    database: Arc<Database>,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    observer: Arc<dyn AlarmObserver>,
    /// Told of the changes answered from a notification (the team relay queues its posts).
    sink: Arc<dyn SessionSink>,
    changes: Changes,
    inner: Mutex<Inner>,
    me: Weak<AlarmHub>,
}

impl AlarmHub {
    /// A hub that listens on `changes` from now on.
    pub fn new(
        database: Arc<Database>,
        clock: Arc<dyn Clock>,
        notifier: Arc<dyn Notifier>,
        observer: Arc<dyn AlarmObserver>,
        sink: Arc<dyn SessionSink>,
        changes: Changes,
    ) -> Arc<Self> {
        let hub = Arc::new_cyclic(|me| AlarmHub {
            database,
            clock,
            notifier,
            observer,
            sink,
            changes: changes.clone(),
            inner: Mutex::default(),
            me: me.clone(),
        });
        changes.listen(hub.clone());
        hub
    }

    fn unposted(&self) -> i64 {
        self.database
            .reader()
            .query_row(
                "SELECT count(*) FROM team_outbox WHERE kind IN ('missed', 'help') AND sent_at IS NULL AND dropped IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0)
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The alarms open now, as last read.
    pub fn state(&self) -> AlarmState {
        let unposted = self.unposted();
        let inner = self.inner();
        AlarmState {
            alarms: inner.open.clone(),
            ring: Vec::new(),
            notifications_failed: inner.notifications_failed,
            unposted,
            now: self.clock.now(),
        }
    }

    /// Reads the open alarms again and brings notifications and the window in line.
    /// `repeated` are alarms the scheduler repeated: they are shown and sounded again.
    pub fn refresh(&self, repeated: &[AlarmKey]) {
        let mut inner = self.inner();
        let alarms = match open(&self.database.reader()) {
            Ok(alarms) => alarms,
            Err(error) => {
                tracing::error!("could not read the open alarms: {error}");
                return;
            }
        };
        // Close what is no longer true.
        let still_open: Vec<AlarmKey> = alarms.iter().map(|a| a.key).collect();
        let gone: Vec<AlarmKey> = inner
            .shown
            .keys()
            .filter(|key| !still_open.contains(key))
            .copied()
            .collect();
        for key in gone {
            if let Some(shown) = inner.shown.remove(&key) {
                self.notifier.close(shown.notice);
            }
        }
        // Show what is new, and again what was repeated.
        let was_open: Vec<AlarmKey> = inner.open.iter().map(|a| a.key).collect();
        let mut ring = Vec::new();
        for alarm in &alarms {
            let is_new = !was_open.contains(&alarm.key);
            let repeat = repeated.contains(&alarm.key);
            if is_new || repeat {
                ring.push(alarm.key.text());
            }
            if repeat {
                if let Some(old) = inner.shown.remove(&alarm.key) {
                    self.notifier.close(old.notice);
                }
            }
            if (is_new || repeat) && !inner.shown.contains_key(&alarm.key) {
                self.show(&mut inner, alarm);
            }
        }
        inner.open = alarms;
        let state = AlarmState {
            alarms: inner.open.clone(),
            ring,
            notifications_failed: inner.notifications_failed,
            unposted: self.unposted(),
            now: self.clock.now(),
        };
        drop(inner);
        self.observer.changed(&state);
    }

    fn show(&self, inner: &mut Inner, alarm: &Alarm) {
        let me = self.me.clone();
        let key = alarm.key;
        // The notice's number is known only once it is shown; the answer needs it to tell
        // this notice from an earlier one for the same alarm.
        let number = Arc::new(AtomicU64::new(0));
        let answered_number = number.clone();
        let on_response = Box::new(move |response: Response| {
            if let Some(hub) = me.upgrade() {
                hub.answered(key, answered_number.load(Ordering::SeqCst), response);
            }
        });
        match self.notifier.show(&alarm.notice(), on_response) {
            Ok(notice) => {
                number.store(notice, Ordering::SeqCst);
                inner.shown.insert(
                    key,
                    Shown {
                        notice,
                        shown_at: self.clock.now(),
                    },
                );
            }
            Err(error) => {
                tracing::warn!("{error}; the in-app alarm is shown instead");
                inner.notifications_failed = true;
            }
        }
    }

    /// A team post this device cannot read, from someone out on `session_id`: a notice of
    /// its own (it could be HELP), apart from the alarms; clicking it opens the session.
    fn unreadable_notice(
        &self,
        session_id: i64,
        title: &str,
        sender: &str,
        sent_at: DateTime<Utc>,
    ) {
        let me = self.me.clone();
        let on_response = Box::new(move |response: Response| {
            if matches!(response, Response::Clicked | Response::Action(_)) {
                if let Some(hub) = me.upgrade() {
                    hub.observer.open_session(session_id);
                }
            }
        });
        let (sender, title) = (isolated(sender), isolated(title));
        let notice = Notice {
            summary: format!("A message from {sender} could not be read"),
            body: format!(
                "{sender} sent a team message at {} while {title} is out, and this device cannot read it. It could be a call for help: call them now.",
                super::clock_time(sent_at)
            ),
            in_app_task: "open the session".into(),
            urgency: Urgency::Critical,
            actions: Vec::new(),
        };
        if let Err(error) = self.notifier.show(&notice, on_response) {
            tracing::warn!("{error}; the unreadable message is shown in the app only");
        }
    }

    /// Someone asks to compare numbers: the answer is on the Team screen, which the user may
    /// not have open (a request started from their phone, say).
    fn comparison_notice(&self, teammate: Option<&str>) {
        let me = self.me.clone();
        let on_response = Box::new(move |response: Response| {
            if matches!(response, Response::Clicked | Response::Action(_)) {
                if let Some(hub) = me.upgrade() {
                    hub.observer.open_team();
                }
            }
        });
        let (summary, body) = match teammate.map(isolated) {
            Some(name) => (
                format!("{name} asks to compare numbers"),
                format!("{name} wants to verify you. Accept on the Team screen only if you are talking to {name} now."),
            ),
            None => (
                "Another of your sessions asks to compare numbers".to_owned(),
                "It wants to confirm this device. Accept on the Team screen only if you started it yourself, just now.".to_owned(),
            ),
        };
        let notice = Notice {
            summary,
            body,
            in_app_task: "open the Team screen".into(),
            urgency: Urgency::Normal,
            actions: Vec::new(),
        };
        if let Err(error) = self.notifier.show(&notice, on_response) {
            tracing::warn!("{error}; the request to compare numbers is shown in the app only");
        }
    }

    /// What the person did with an alarm's notification. Their answer counts even on an
    /// older notice for the same alarm; what the desktop did with it only for the current.
    fn answered(&self, key: AlarmKey, notice: NoticeId, response: Response) {
        let (now, session) = (self.clock.now(), key.session_id);
        let change = |apply: LocalChange| {
            let actor = Actor::Here(Via::Notification);
            let result = apply(
                &mut self.database.conn(),
                session,
                now,
                &actor,
                self.sink.as_ref(),
            );
            if let Err(error) = result {
                tracing::warn!(session, "notification answer not applied: {error}");
            }
            self.changes.announce(Changed::Sessions);
        };
        match response {
            Response::Action(action) if action == ACTION_CHECK_IN => change(checkins::check_in),
            Response::Action(action) if action == ACTION_SNOOZE => change(checkins::snooze),
            Response::Action(action) if action == ACTION_ACKNOWLEDGE => {
                if key.kind == super::AlarmKind::Duress {
                    change(checkins::acknowledge_duress)
                } else {
                    change(checkins::acknowledge)
                }
            }
            Response::Action(_) | Response::Clicked => {
                self.forget(key, notice);
                self.observer.open_session(session);
            }
            Response::Expired => self.show_again_if_open(key, notice),
            Response::Dismissed | Response::ClosedByApp => self.forget(key, notice),
            Response::Failed(error) => {
                tracing::warn!("desktop notification not shown: {error}");
                let mut inner = self.inner();
                if inner.shown.get(&key).is_some_and(|s| s.notice == notice) {
                    inner.shown.remove(&key);
                }
                inner.notifications_failed = true;
                let state = AlarmState {
                    alarms: inner.open.clone(),
                    ring: Vec::new(),
                    notifications_failed: true,
                    unposted: self.unposted(),
                    now: self.clock.now(),
                };
                drop(inner);
                self.observer.changed(&state);
            }
        }
    }

    /// Takes `notice` off the books if it is still the alarm's current one.
    fn take_current(inner: &mut Inner, key: AlarmKey, notice: NoticeId) -> Option<Shown> {
        if inner.shown.get(&key).is_some_and(|s| s.notice == notice) {
            inner.shown.remove(&key)
        } else {
            None
        }
    }

    /// The notice is gone from the desktop; the in-app alarm stays until it is resolved.
    fn forget(&self, key: AlarmKey, notice: NoticeId) {
        Self::take_current(&mut self.inner(), key, notice);
    }

    /// The desktop dropped a notice by itself: an alarm that is still open comes back.
    fn show_again_if_open(&self, key: AlarmKey, notice: NoticeId) {
        let mut inner = self.inner();
        let Some(shown) = Self::take_current(&mut inner, key, notice) else {
            return;
        };
        if self.clock.now() - shown.shown_at < SHORTEST_SHOWING {
            return;
        }
        if let Some(alarm) = inner.open.iter().find(|a| a.key == key).cloned() {
            self.show(&mut inner, &alarm);
        }
    }

    /// Alarms with a desktop notification up now, by session and kind (for tests).
    pub fn notified(&self) -> Vec<(i64, AlarmKind)> {
        let mut keys: Vec<(i64, AlarmKind)> = self
            .inner()
            .shown
            .keys()
            .map(|k| (k.session_id, k.kind))
            .collect();
        keys.sort_by_key(|(id, kind)| (*id, *kind == AlarmKind::Reminder));
        keys
    }
}

impl Listener for AlarmHub {
    /// Sessions changed, or the scheduler raised alarms: the open alarms are read again.
    fn heard(&self, what: &Changed) {
        match what {
            Changed::Sessions => self.refresh(&[]),
            Changed::Alerted { ring_again } => {
                let keys: Vec<AlarmKey> = ring_again
                    .iter()
                    .map(|(session_id, due_at_ms)| AlarmKey {
                        session_id: *session_id,
                        kind: AlarmKind::Missed,
                        due_at_ms: *due_at_ms,
                    })
                    .collect();
                self.refresh(&keys);
            }
            Changed::Unreadable {
                session_id,
                title,
                sender,
                sent_at,
            } => self.unreadable_notice(*session_id, title, sender, *sent_at),
            Changed::ComparisonAsked { teammate } => self.comparison_notice(teammate.as_deref()),
            Changed::DoNotKnock | Changed::Team | Changed::Record | Changed::TeamReading { .. } => {
            }
        }
    }
}
