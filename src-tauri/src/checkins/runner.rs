//! The scheduler thread: looks at the database when something is due, sends what
//! `scheduler::evaluate` decides, and applies what people answer on the notifications.
//!
//! It sleeps until the next due time, or indefinitely when nothing is scheduled (no
//! periodic wake-ups), and wakes early when a session changes. While something is
//! scheduled it never sleeps longer than a minute at a time, because the monotonic timers
//! it sleeps on stop while the machine is suspended; each wake re-reads the wall clock.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration as StdDuration, Instant};

use super::scheduler::{self, Alert, ACTION_ACKNOWLEDGE, ACTION_CHECK_IN, ACTION_SNOOZE};
use crate::notify::{Notifier, Response};
use crate::storage::Database;
use crate::time::Clock;

/// The longest sleep while something is scheduled, so a suspend is noticed within a minute.
const MAX_SLICE: StdDuration = StdDuration::from_secs(60);

#[derive(Default)]
struct Signal {
    changed: Mutex<bool>,
    wake: Condvar,
}

/// Tells the scheduler that sessions changed. Cheap to clone.
#[derive(Clone, Default)]
pub struct SchedulerHandle {
    signal: Arc<Signal>,
}

impl SchedulerHandle {
    pub fn poke(&self) {
        let mut changed = self
            .signal
            .changed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *changed = true;
        self.signal.wake.notify_all();
    }
}

/// Where alerts go besides the notification: the app's own window (an in-app alarm that
/// works even when notifications do not), and what to do when a notice is clicked.
pub trait AlertSink: Send + Sync {
    fn alert(&self, alert: &Alert, notification_failed: bool);
    fn open_session(&self, session_id: i64);
}

pub struct Runner {
    pub database: Arc<Database>,
    pub clock: Arc<dyn Clock>,
    pub notifier: Arc<dyn Notifier>,
    pub sink: Arc<dyn AlertSink>,
    pub handle: SchedulerHandle,
}

impl Runner {
    /// One look: send what is due. Returns how long to sleep (None: until poked).
    pub fn tick(&self) -> Option<StdDuration> {
        let now = self.clock.now();
        let alerts = match scheduler::evaluate(&mut self.database.conn(), now) {
            Ok(alerts) => alerts,
            Err(error) => {
                tracing::error!("scheduler could not read check-ins: {error}");
                return Some(MAX_SLICE);
            }
        };
        for alert in &alerts {
            self.deliver(alert);
        }
        match scheduler::next_wake(&self.database.conn(), now) {
            // The floor keeps a due time that is already past from spinning the loop.
            Ok(Some(at)) => Some(
                (at - now)
                    .to_std()
                    .unwrap_or_default()
                    .clamp(StdDuration::from_millis(50), MAX_SLICE),
            ),
            Ok(None) => None,
            Err(error) => {
                tracing::error!("scheduler could not read check-ins: {error}");
                Some(MAX_SLICE)
            }
        }
    }

    fn deliver(&self, alert: &Alert) {
        let session_id = alert.session_id;
        let (database, clock, handle, sink) = (
            self.database.clone(),
            self.clock.clone(),
            self.handle.clone(),
            self.sink.clone(),
        );
        let on_response = Box::new(move |response: Response| {
            let now = clock.now();
            let mut conn = database.conn();
            let result = match &response {
                Response::Action(key) if key == ACTION_CHECK_IN => {
                    super::check_in(&mut conn, session_id, now, "notification")
                }
                Response::Action(key) if key == ACTION_SNOOZE => {
                    super::snooze(&mut conn, session_id, now, "notification")
                }
                Response::Action(key) if key == ACTION_ACKNOWLEDGE => {
                    super::acknowledge(&mut conn, session_id, now, "notification")
                }
                Response::Clicked => {
                    sink.open_session(session_id);
                    Ok(())
                }
                _ => Ok(()),
            };
            drop(conn);
            if let Err(error) = result {
                tracing::warn!(session_id, "notification response not applied: {error}");
            }
            handle.poke();
        });
        let failed = match self.notifier.notify(&scheduler::notice(alert), on_response) {
            Ok(()) => false,
            Err(error) => {
                tracing::warn!("{error}; the in-app alarm is shown instead");
                true
            }
        };
        self.sink.alert(alert, failed);
    }

    /// Runs until the process ends.
    pub fn run(self) {
        loop {
            let sleep = self.tick();
            let started = (Instant::now(), self.clock.now());
            let signal = &self.handle.signal;
            let mut changed = signal.changed.lock().unwrap_or_else(|p| p.into_inner());
            if !*changed {
                changed = match sleep {
                    Some(duration) => {
                        signal
                            .wake
                            .wait_timeout(changed, duration)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                    None => signal.wake.wait(changed).unwrap_or_else(|p| p.into_inner()),
                };
            }
            *changed = false;
            drop(changed);
            let slept = started.0.elapsed();
            let wall = (self.clock.now() - started.1).to_std().unwrap_or_default();
            if wall > slept + StdDuration::from_secs(5) || wall + StdDuration::from_secs(5) < slept
            {
                tracing::info!(
                    ?slept,
                    ?wall,
                    "clock jumped or the system resumed; catching up"
                );
            }
        }
    }

    pub fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("check-in scheduler".into())
            .spawn(move || self.run())
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::checkins::{self, EscalationContact, Kind, Mode, NewSession};
    use crate::notify::{Notice, NotifyError, OnResponse, Urgency};

    struct TestClock(Mutex<DateTime<Utc>>);
    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    /// Records notices and keeps their response callbacks so a test can answer them.
    #[derive(Default)]
    struct RecordingNotifier {
        sent: Mutex<Vec<(Notice, Option<OnResponse>)>>,
        fail: bool,
    }
    impl Notifier for RecordingNotifier {
        fn notify(&self, notice: &Notice, on_response: OnResponse) -> Result<(), NotifyError> {
            if self.fail {
                return Err(NotifyError::Unavailable("no daemon".into()));
            }
            self.sent
                .lock()
                .unwrap()
                .push((notice.clone(), Some(on_response)));
            Ok(())
        }
    }

    #[derive(Default)]
    struct RecordingSink(Mutex<Vec<(i64, bool)>>);
    impl AlertSink for RecordingSink {
        fn alert(&self, alert: &Alert, failed: bool) {
            self.0.lock().unwrap().push((alert.session_id, failed));
        }
        fn open_session(&self, _: i64) {}
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap()
    }

    fn setup(
        fail: bool,
    ) -> (
        tempfile::TempDir,
        Runner,
        Arc<TestClock>,
        Arc<RecordingNotifier>,
        Arc<RecordingSink>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let database = Arc::new(Database::open_in(dir.path()).unwrap());
        let clock = Arc::new(TestClock(Mutex::new(at(14, 0))));
        let notifier = Arc::new(RecordingNotifier {
            fail,
            ..Default::default()
        });
        let sink = Arc::new(RecordingSink::default());
        let runner = Runner {
            database,
            clock: clock.clone(),
            notifier: notifier.clone(),
            sink: sink.clone(),
            handle: SchedulerHandle::default(),
        };
        (dir, runner, clock, notifier, sink)
    }

    fn start_canvass(runner: &Runner) -> i64 {
        let new = NewSession {
            kind: Kind::Canvass,
            mode: Mode::Me,
            title: "Ward 3".into(),
            participants: vec!["Asha".into()],
            place: String::new(),
            notes: String::new(),
            escalation: vec![EscalationContact {
                name: "Office".into(),
                phone: "101".into(),
                relationship: String::new(),
            }],
            ends_at: Some(at(18, 0)),
            interval_minutes: Some(30),
            reminder_lead_minutes: 5,
            grace_minutes: 10,
        };
        checkins::start(
            &mut runner.database.conn(),
            &new,
            runner.clock.now(),
            "Asha",
        )
        .unwrap()
    }

    #[test]
    fn sleeps_indefinitely_with_nothing_scheduled_and_until_the_reminder_otherwise() {
        let (_dir, runner, clock, _, _) = setup(false);
        assert_eq!(runner.tick(), None, "no session: no wake-ups");
        start_canvass(&runner);
        assert_eq!(
            runner.tick(),
            Some(MAX_SLICE),
            "25 minutes away: sleep in slices of a minute"
        );
        *clock.0.lock().unwrap() = at(14, 24);
        assert_eq!(runner.tick(), Some(StdDuration::from_secs(60)));
        *clock.0.lock().unwrap() = at(14, 24) + chrono::Duration::seconds(30);
        assert_eq!(runner.tick(), Some(StdDuration::from_secs(30)));
    }

    #[test]
    fn pressing_i_am_ok_on_the_notification_records_the_check_in() {
        let (_dir, runner, clock, notifier, sink) = setup(false);
        let id = start_canvass(&runner);
        *clock.0.lock().unwrap() = at(14, 25);
        runner.tick();
        let (notice, respond) = notifier.sent.lock().unwrap().pop().unwrap();
        assert_eq!(notice.summary, "Check in: Ward 3");
        assert_eq!(notice.urgency, Urgency::Normal);
        assert_eq!(sink.0.lock().unwrap().as_slice(), [(id, false)]);

        *clock.0.lock().unwrap() = at(14, 27);
        (respond.unwrap())(Response::Action(ACTION_CHECK_IN.into()));
        let events = checkins::timeline(&runner.database.conn(), id).unwrap();
        let last = events.last().unwrap();
        assert_eq!(
            (last.kind.as_str(), last.by_whom.as_str(), last.at),
            ("checked_in", "notification", at(14, 27))
        );
        assert!(
            *runner.handle.signal.changed.lock().unwrap(),
            "the scheduler is woken to reschedule"
        );
    }

    #[test]
    fn without_a_notification_service_the_in_app_alarm_still_fires() {
        let (_dir, runner, clock, _, sink) = setup(true);
        let id = start_canvass(&runner);
        *clock.0.lock().unwrap() = at(14, 40);
        runner.tick();
        assert_eq!(sink.0.lock().unwrap().as_slice(), [(id, true)]);
    }
}
