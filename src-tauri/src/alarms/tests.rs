//! The alarm model: opened by the scheduler, resolved by every path, the same after a
//! restart, and mirrored by desktop notifications that close when they are no longer true.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::hub::{AlarmHub, AlarmObserver, AlarmState};
use super::*;
use crate::changes::Changes;
use crate::checkins::runner::{Runner, SchedulerHandle};
use crate::checkins::scheduler::ACTION_ACKNOWLEDGE;
use crate::checkins::{self, Actor, EscalationContact, Kind, NewSession, NoSink};
use crate::notify::{Notice, NoticeId, Notifier, NotifyError, OnResponse, Response};
use crate::storage::Database;
use crate::time::Clock;

struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Keeps every notice shown, with its answer callback, and every close.
#[derive(Default)]
struct RecordingNotifier {
    shown: Mutex<Vec<(NoticeId, Notice, Option<OnResponse>)>>,
    closed: Mutex<Vec<NoticeId>>,
    fail: bool,
}

impl Notifier for RecordingNotifier {
    fn show(&self, notice: &Notice, on_response: OnResponse) -> Result<NoticeId, NotifyError> {
        if self.fail {
            return Err(NotifyError::Unavailable("no daemon".into()));
        }
        let mut shown = self.shown.lock().unwrap();
        let id = shown.len() as NoticeId + 1;
        shown.push((id, notice.clone(), Some(on_response)));
        Ok(id)
    }

    fn close(&self, id: NoticeId) {
        self.closed.lock().unwrap().push(id);
    }
}

impl RecordingNotifier {
    fn summaries(&self) -> Vec<String> {
        let shown = self.shown.lock().unwrap();
        shown.iter().map(|(_, n, _)| n.summary.clone()).collect()
    }

    /// Answers notice `id` as the desktop would.
    fn answer(&self, id: NoticeId, response: Response) {
        let callback = self.shown.lock().unwrap()[id as usize - 1].2.take();
        (callback.expect("answered once"))(response);
    }

    fn last_id(&self) -> NoticeId {
        self.shown.lock().unwrap().len() as NoticeId
    }
}

#[derive(Default)]
struct RecordingObserver {
    states: Mutex<Vec<AlarmState>>,
    opened: Mutex<Vec<i64>>,
    teams_opened: Mutex<usize>,
}

impl AlarmObserver for RecordingObserver {
    fn changed(&self, state: &AlarmState) {
        self.states.lock().unwrap().push(state.clone());
    }
    fn open_session(&self, session_id: i64) {
        self.opened.lock().unwrap().push(session_id);
    }
    fn open_team(&self) {
        *self.teams_opened.lock().unwrap() += 1;
    }
}

impl RecordingObserver {
    fn last(&self) -> AlarmState {
        self.states.lock().unwrap().last().cloned().expect("told")
    }
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    database: Arc<Database>,
    clock: Arc<TestClock>,
    notifier: Arc<RecordingNotifier>,
    observer: Arc<RecordingObserver>,
    runner: Runner,
    /// The alarm hub, listening on the runner's channel.
    hub: Arc<AlarmHub>,
}

impl World {
    fn new() -> Self {
        Self::with_notifier(RecordingNotifier::default())
    }

    fn with_notifier(notifier: RecordingNotifier) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = Arc::new(Database::open_in(dir.path(), &crate::vault::test_key()).unwrap());
        let clock = Arc::new(TestClock(Mutex::new(at(14, 0))));
        let (notifier, observer) = (Arc::new(notifier), Arc::new(RecordingObserver::default()));
        let (runner, hub) = Self::runner(&database, &clock, &notifier, &observer);
        World {
            _dir: dir,
            database,
            clock,
            notifier,
            observer,
            runner,
            hub,
        }
    }

    fn runner(
        database: &Arc<Database>,
        clock: &Arc<TestClock>,
        notifier: &Arc<RecordingNotifier>,
        observer: &Arc<RecordingObserver>,
    ) -> (Runner, Arc<AlarmHub>) {
        let handle = SchedulerHandle::default();
        let changes = Changes::default();
        changes.listen(Arc::new(handle.clone()));
        let hub = AlarmHub::new(
            database.clone(),
            clock.clone(),
            notifier.clone(),
            observer.clone(),
            Arc::new(NoSink),
            changes.clone(),
        );
        let runner = Runner {
            database: database.clone(),
            clock: clock.clone(),
            sink: Arc::new(NoSink),
            changes,
            handle,
        };
        (runner, hub)
    }

    /// The app stopped and started again on the same data: a new hub and scheduler.
    fn restart(&mut self) {
        self.notifier = Arc::new(RecordingNotifier::default());
        self.observer = Arc::new(RecordingObserver::default());
        (self.runner, self.hub) =
            Self::runner(&self.database, &self.clock, &self.notifier, &self.observer);
        self.hub.refresh(&[]);
    }

    fn set_time(&self, at: DateTime<Utc>) {
        *self.clock.0.lock().unwrap() = at;
    }

    fn start(&self, title: &str, person: &str, mode: Mode) -> i64 {
        let new = NewSession {
            kind: Kind::Canvass,
            mode,
            title: title.into(),
            participants: vec![person.into()],
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
            &mut self.database.conn(),
            &new,
            self.clock.now(),
            &Actor::here(),
            &NoSink,
        )
        .unwrap()
    }

    /// What the window was last told: (session, kind) of each open alarm, in order.
    fn open_alarms(&self) -> Vec<(i64, AlarmKind)> {
        self.observer
            .last()
            .alarms
            .iter()
            .map(|a| (a.session_id, a.kind))
            .collect()
    }

    /// Does what the window's buttons do: change, then tell the hub.
    fn in_app(
        &self,
        apply: impl FnOnce(&mut rusqlite::Connection) -> Result<(), checkins::CheckinError>,
    ) {
        apply(&mut self.database.conn()).unwrap();
        self.hub.refresh(&[]);
    }
}

#[test]
fn two_sessions_missed_at_once_give_two_alarms_most_urgent_first() {
    let w = World::new();
    let ward3 = w.start("Ward 3", "Asha", Mode::Me);
    w.set_time(at(14, 2));
    let ward5 = w.start("Ward 5", "Ben", Mode::Watching);

    w.set_time(at(14, 25));
    w.runner.tick();
    assert_eq!(w.open_alarms(), [(ward3, AlarmKind::Reminder)]);
    w.set_time(at(14, 27));
    w.runner.tick();
    assert_eq!(
        w.open_alarms(),
        [(ward3, AlarmKind::Reminder), (ward5, AlarmKind::Reminder)]
    );

    // Both missed in the same look: two alarms, the longest overdue first, reminders gone.
    w.set_time(at(14, 45));
    w.runner.tick();
    assert_eq!(
        w.open_alarms(),
        [(ward3, AlarmKind::Missed), (ward5, AlarmKind::Missed)]
    );
    let state = w.observer.last();
    assert_eq!(state.ring.len(), 2, "both ring: {:?}", state.ring);
    assert_eq!(
        w.hub.notified(),
        [(ward3, AlarmKind::Missed), (ward5, AlarmKind::Missed)]
    );
    // The two reminder notices were closed when they stopped being true.
    let mut closed = w.notifier.closed.lock().unwrap().clone();
    closed.sort();
    assert_eq!(closed, [1, 2]);

    // Worded for the mode: the person out, and the office watching a team.
    assert_eq!(state.alarms[0].summary, "Missed check-in: Ward 3");
    assert_eq!(state.alarms[1].summary, "Ben missed a check-in");
    assert!(state.alarms[1].body.contains("overdue since 14:32"));
    let keys = |alarm: &Alarm| alarm.actions.iter().map(|a| a.key).collect::<Vec<_>>();
    assert_eq!(keys(&state.alarms[0]), [ACTION_CHECK_IN, ACTION_OPEN]);
    assert_eq!(
        keys(&state.alarms[1]),
        [ACTION_ACKNOWLEDGE, ACTION_CHECK_IN, ACTION_OPEN]
    );
    let notices = w.notifier.shown.lock().unwrap();
    let missed = &notices[3].1;
    assert_eq!(missed.urgency, crate::notify::Urgency::Critical);
    assert!(
        missed.actions.iter().all(|a| a.key != ACTION_OPEN),
        "clicking the notice opens the session; no button for it"
    );
    assert_eq!(missed.in_app_task, "record their check-in");
}

#[test]
fn checking_in_from_a_notification_clears_that_alarm_everywhere_and_leaves_the_other() {
    let w = World::new();
    let ward3 = w.start("Ward 3", "Asha", Mode::Me);
    let ward5 = w.start("Ward 5", "Ben", Mode::Me);
    w.set_time(at(14, 45));
    w.runner.tick();
    assert_eq!(w.hub.notified().len(), 2);

    let ward3_notice = w
        .notifier
        .shown
        .lock()
        .unwrap()
        .iter()
        .find(|(_, n, _)| n.summary == "Missed check-in: Ward 3")
        .map(|(id, _, _)| *id)
        .unwrap();
    w.notifier
        .answer(ward3_notice, Response::Action(ACTION_CHECK_IN.into()));

    assert_eq!(w.open_alarms(), [(ward5, AlarmKind::Missed)]);
    assert_eq!(*w.notifier.closed.lock().unwrap(), [ward3_notice]);
    assert_eq!(w.hub.notified(), [(ward5, AlarmKind::Missed)]);
    let timeline = checkins::timeline(&w.database.conn(), ward3).unwrap();
    let last = timeline.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.by_whom.as_str()),
        ("checked_in", "notification")
    );
    assert!(w.runner.handle.poked(), "the scheduler looks again");
}

#[test]
fn every_way_of_resolving_an_alarm_closes_it_and_its_notice() {
    type Resolve = fn(&World, i64);
    let paths: [(&str, Resolve); 6] = [
        ("I'm OK in the window", |w, id| {
            w.in_app(|c| checkins::check_in(c, id, at(14, 46), &Actor::here(), &NoSink))
        }),
        ("extend", |w, id| {
            w.in_app(|c| checkins::extend(c, id, 30, at(14, 46), &Actor::here(), &NoSink))
        }),
        ("end safely", |w, id| {
            w.in_app(|c| checkins::end_safely(c, id, at(14, 46), &Actor::here(), &NoSink))
        }),
        ("acknowledge in the window", |w, id| {
            w.in_app(|c| checkins::acknowledge(c, id, at(14, 46), &Actor::here(), &NoSink))
        }),
        ("acknowledge on the notification", |w, _| {
            let id = w.notifier.last_id();
            w.notifier
                .answer(id, Response::Action(ACTION_ACKNOWLEDGE.into()));
        }),
        ("check in on the notification", |w, _| {
            let id = w.notifier.last_id();
            w.notifier
                .answer(id, Response::Action(ACTION_CHECK_IN.into()));
        }),
    ];
    for (path, resolve) in paths {
        let w = World::new();
        let id = w.start("Ward 3", "Asha", Mode::Watching);
        w.set_time(at(14, 45));
        w.runner.tick();
        assert_eq!(w.open_alarms(), [(id, AlarmKind::Missed)], "{path}");
        let notice = w.notifier.last_id();
        resolve(&w, id);
        assert!(w.open_alarms().is_empty(), "{path}: the alarm is gone");
        assert!(
            w.notifier.closed.lock().unwrap().contains(&notice),
            "{path}: its notice is closed"
        );
        assert!(w.hub.notified().is_empty(), "{path}");
    }
}

#[test]
fn names_in_right_to_left_scripts_keep_to_themselves_in_the_alarm() {
    let w = World::new();
    let id = w.start("حي الزيتون", "أمينة", Mode::Watching);
    w.set_time(at(14, 45));
    w.runner.tick();
    assert_eq!(w.open_alarms(), [(id, AlarmKind::Missed)]);
    let alarm = w.observer.last().alarms[0].clone();
    // Each name is isolated, so "missed a check-in" stays after the person it is about.
    assert_eq!(alarm.summary, "\u{2068}أمينة\u{2069} missed a check-in");
    assert!(
        alarm
            .body
            .starts_with("\u{2068}حي الزيتون\u{2069}: overdue since"),
        "{}",
        alarm.body
    );
    // The title itself is kept as typed, for the window to show in its own heading.
    assert_eq!(alarm.title, "حي الزيتون");
    assert_eq!(w.notifier.summaries().last().unwrap(), &alarm.summary);
}

#[test]
fn snoozing_a_reminder_hides_it_until_the_snooze_is_over() {
    let w = World::new();
    let id = w.start("Ward 3", "Asha", Mode::Me);
    w.set_time(at(14, 25));
    w.runner.tick();
    w.notifier.answer(1, Response::Action(ACTION_SNOOZE.into()));
    assert!(w.open_alarms().is_empty());
    assert_eq!(*w.notifier.closed.lock().unwrap(), [1]);

    w.set_time(at(14, 30));
    w.runner.tick();
    assert_eq!(w.open_alarms(), [(id, AlarmKind::Reminder)]);
    assert_eq!(w.hub.notified(), [(id, AlarmKind::Reminder)]);
}

#[test]
fn after_a_restart_three_missed_sessions_give_three_alarms_once_each() {
    let mut w = World::new();
    let ids: Vec<i64> = ["Asha", "Ben", "Cat"]
        .iter()
        .map(|person| w.start(&format!("Walk {person}"), person, Mode::Watching))
        .collect();
    w.set_time(at(14, 45));
    w.runner.tick();
    assert_eq!(w.open_alarms().len(), 3);

    w.set_time(at(14, 47));
    w.restart();
    let expected: Vec<(i64, AlarmKind)> = ids.iter().map(|id| (*id, AlarmKind::Missed)).collect();
    assert_eq!(w.open_alarms(), expected);
    assert_eq!(w.observer.last().ring.len(), 3, "each rings once on start");
    // The scheduler's own look finds nothing new: no duplicates.
    w.runner.tick();
    assert_eq!(w.notifier.summaries().len(), 3);
    assert_eq!(w.hub.notified(), expected);
    let missed_events: usize = ids
        .iter()
        .map(|id| {
            checkins::timeline(&w.database.conn(), *id)
                .unwrap()
                .iter()
                .filter(|e| e.kind == "missed")
                .count()
        })
        .sum();
    assert_eq!(missed_events, 3);
}

#[test]
fn a_missed_alarm_repeats_its_notice_and_sound_until_someone_acts() {
    let w = World::new();
    let id = w.start("Ward 3", "Asha", Mode::Watching);
    w.set_time(at(14, 40));
    w.runner.tick();
    w.notifier.answer(1, Response::Dismissed);
    assert!(w.hub.notified().is_empty(), "dismissed on the desktop");
    assert_eq!(
        w.open_alarms(),
        [(id, AlarmKind::Missed)],
        "still open in the app"
    );

    w.set_time(at(14, 45));
    w.runner.tick();
    assert_eq!(w.hub.notified(), [(id, AlarmKind::Missed)]);
    assert_eq!(
        w.observer.last().ring,
        [AlarmKey {
            session_id: id,
            kind: AlarmKind::Missed,
            due_at_ms: crate::time::to_millis(at(14, 30)),
        }
        .text()]
    );
    assert_eq!(w.notifier.summaries().len(), 2);
}

#[test]
fn a_notice_the_desktop_dropped_is_shown_again_while_the_alarm_is_open() {
    let w = World::new();
    let id = w.start("Ward 3", "Asha", Mode::Me);
    w.set_time(at(14, 25));
    w.runner.tick();
    // Dropped after its daemon's timeout: shown again, still waiting for an answer.
    w.set_time(at(14, 25) + Duration::seconds(10));
    w.notifier.answer(1, Response::Expired);
    assert_eq!(w.hub.notified(), [(id, AlarmKind::Reminder)]);
    assert_eq!(
        w.notifier.summaries(),
        ["Check in: Ward 3", "Check in: Ward 3"]
    );
    // Dropped at once (a daemon that expires everything): not shown again in a loop.
    w.notifier.answer(2, Response::Expired);
    assert!(w.hub.notified().is_empty());
    assert_eq!(w.notifier.summaries().len(), 2);
    assert_eq!(
        w.open_alarms(),
        [(id, AlarmKind::Reminder)],
        "still open in the app"
    );
}

#[test]
fn clicking_a_notice_opens_its_session() {
    let w = World::new();
    let id = w.start("Ward 3", "Asha", Mode::Me);
    w.set_time(at(14, 25));
    w.runner.tick();
    w.notifier.answer(1, Response::Clicked);
    assert_eq!(*w.observer.opened.lock().unwrap(), [id]);
    assert_eq!(w.open_alarms(), [(id, AlarmKind::Reminder)], "still open");
}

#[test]
fn a_request_to_compare_numbers_is_told_to_the_desktop_and_opens_the_team_screen() {
    use crate::changes::{Changed, Listener};
    let w = World::new();
    w.hub.heard(&Changed::ComparisonAsked {
        teammate: Some("vic".into()),
    });
    w.hub.heard(&Changed::ComparisonAsked { teammate: None });
    w.hub.heard(&Changed::ComparisonAsked {
        teammate: Some("שרה".into()),
    });
    assert_eq!(
        w.notifier.summaries(),
        [
            "vic asks to compare numbers",
            "Another of your sessions asks to compare numbers",
            "\u{2068}שרה\u{2069} asks to compare numbers",
        ]
    );
    w.notifier.answer(1, Response::Clicked);
    w.notifier.answer(2, Response::Dismissed);
    w.notifier.answer(3, Response::Dismissed);
    assert_eq!(*w.observer.teams_opened.lock().unwrap(), 1);
    assert!(
        w.observer.states.lock().unwrap().is_empty(),
        "no alarm changed: it is a question"
    );
}

#[test]
fn without_desktop_notifications_the_window_is_told_and_the_alarm_still_opens() {
    let w = World::with_notifier(RecordingNotifier {
        fail: true,
        ..Default::default()
    });
    let id = w.start("Ward 3", "Asha", Mode::Me);
    w.set_time(at(14, 40));
    w.runner.tick();
    let state = w.observer.last();
    assert!(state.notifications_failed);
    assert_eq!(w.open_alarms(), [(id, AlarmKind::Missed)]);
}

#[test]
fn the_scheduler_sleeps_with_nothing_scheduled_and_until_the_reminder_otherwise() {
    let w = World::new();
    assert_eq!(w.runner.tick(), None, "no session: no wake-ups");
    w.start("Ward 3", "Asha", Mode::Me);
    assert_eq!(
        w.runner.tick(),
        Some(std::time::Duration::from_secs(60)),
        "25 minutes away: sleep in slices of a minute"
    );
    w.set_time(at(14, 24) + Duration::seconds(30));
    assert_eq!(w.runner.tick(), Some(std::time::Duration::from_secs(30)));
    assert!(
        w.observer.states.lock().unwrap().is_empty(),
        "nothing to tell yet"
    );
}
