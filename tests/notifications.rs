//! Real notifications over a real, private D-Bus session bus, with a recording
//! org.freedesktop.Notifications server standing in for the desktop's. Its own test binary,
//! because the bus address is process-wide.

#[path = "support/notification_server.rs"]
mod notification_server;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use campaign_safe_lib::alarms::hub::{AlarmHub, Headless};
use campaign_safe_lib::checkins::runner::{Runner, SchedulerHandle};
use campaign_safe_lib::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use campaign_safe_lib::notify::{
    DesktopNotifier, Notice, NoticeAction, Notifier, Response, Urgency,
};
use campaign_safe_lib::storage::Database;
use campaign_safe_lib::time::Clock;
use chrono::{DateTime, TimeZone, Utc};
use notification_server::NotificationServer;

fn start_bus() -> (Child, String) {
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon must be installed: run `make test`");
    let mut address = String::new();
    BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    (daemon, address.trim().to_owned())
}

fn reminder() -> Notice {
    Notice {
        summary: "Check-in due: Ward 3 canvass".into(),
        body: "Due at 14:30.".into(),
        in_app_task: "check in".into(),
        urgency: Urgency::Critical,
        actions: vec![
            NoticeAction {
                key: "check-in".into(),
                label: "I’m OK — check in".into(),
            },
            NoticeAction {
                key: "snooze-5".into(),
                label: "Snooze 5 min".into(),
            },
        ],
    }
}

/// Where a notice's answer lands when it comes.
#[derive(Clone, Default)]
struct Answer(Arc<Mutex<Option<Response>>>);

impl Answer {
    fn arrived(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }

    fn wait(&self) -> Response {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !self.arrived() {
            assert!(std::time::Instant::now() < deadline, "no answer came back");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.0.lock().unwrap().clone().unwrap()
    }
}

fn show(notifier: &DesktopNotifier, notice: &Notice) -> (u64, Answer) {
    let answer = Answer::default();
    let slot = answer.clone();
    let id = notifier
        .show(
            notice,
            Box::new(move |response| *slot.0.lock().unwrap() = Some(response)),
        )
        .unwrap();
    (id, answer)
}

#[test]
fn notices_reach_a_real_notification_server_and_their_answers_come_back() {
    let (mut daemon, address) = start_bus();
    // Set before anything opens a session-bus connection in this process.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = NotificationServer::start(&address, true);
    let notifier = DesktopNotifier::new("Campaign Safe", runtime.handle().clone());

    // Summary, body, actions and urgency arrive as sent; nothing expires by itself.
    let (_, answer) = show(&notifier, &reminder());
    let first = server.wait_for("Check-in due");
    assert_eq!(first.app_name, "Campaign Safe");
    assert_eq!(first.body, "Due at 14:30.", "buttons drawn: no extra line");
    assert_eq!(
        first.actions,
        [
            "default",
            "Open Campaign Safe",
            "check-in",
            "I’m OK — check in",
            "snooze-5",
            "Snooze 5 min"
        ]
    );
    assert_eq!(first.urgency, Some(2), "critical urgency");
    assert_eq!(first.expire_timeout, 0, "never expires by itself");
    server.press(first.id, "check-in", || answer.arrived());
    assert_eq!(answer.wait(), Response::Action("check-in".into()));

    // A reminder (normal urgency) also waits; dismissed and timed-out notices report so.
    let mut normal = reminder();
    normal.urgency = Urgency::Normal;
    normal.summary = "Dismiss me".into();
    let (_, dismissed) = show(&notifier, &normal);
    let sent = server.wait_for("Dismiss me");
    assert_eq!((sent.urgency, sent.expire_timeout), (Some(1), 0));
    server.drop_notice(sent.id, 2, || dismissed.arrived());
    assert_eq!(dismissed.wait(), Response::Dismissed);

    normal.summary = "Time me out".into();
    let (_, expired) = show(&notifier, &normal);
    let sent = server.wait_for("Time me out");
    server.drop_notice(sent.id, 1, || expired.arrived());
    assert_eq!(expired.wait(), Response::Expired);

    // Closing a notice reaches the server as CloseNotification. The answer does not hang on
    // the desktop's NotificationClosed signal, which can come before anyone listens for it
    // and then is lost (seen once): with no signal at all, the notice the app closed is still
    // answered.
    for (summary, silently) in [("Close me", false), ("Close me quietly", true)] {
        server.close_silently(silently);
        normal.summary = summary.into();
        let (id, closed) = show(&notifier, &normal);
        let sent = server.wait_for(summary);
        notifier.close(id);
        server.wait_closed(sent.id);
        assert_eq!(closed.wait(), Response::ClosedByApp, "{summary}");
    }
    server.close_silently(false);

    // A daemon that takes no actions at all: the notice sends people to the app.
    let (mut plain_daemon, plain_address) = start_bus();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &plain_address);
    let plain = NotificationServer::start(&plain_address, false);
    let plain_notifier = DesktopNotifier::new("Campaign Safe", runtime.handle().clone());
    let _ = show(&plain_notifier, &reminder());
    let sent = plain.wait_for("Check-in due");
    assert_eq!(sent.body, "Due at 14:30.\nOpen Campaign Safe to check in.");

    // Through the scheduler and the alarm hub: pressing "I'm OK" on the reminder records the
    // check-in and closes the notice.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
    scheduler_reminder_answered_over_dbus(&server, &runtime);

    // With no notification service on the bus, the answer is a failure, not a panic.
    let (mut empty_daemon, empty_address) = start_bus();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &empty_address);
    let lonely = DesktopNotifier::new("Campaign Safe", runtime.handle().clone());
    let (_, failed) = show(&lonely, &reminder());
    assert!(
        matches!(failed.wait(), Response::Failed(_)),
        "no notification service"
    );

    for child in [&mut daemon, &mut plain_daemon, &mut empty_daemon] {
        let _ = child.kill();
        let _ = child.wait();
    }
}

struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn scheduler_reminder_answered_over_dbus(
    server: &NotificationServer,
    runtime: &tokio::runtime::Runtime,
) {
    let dir = tempfile::tempdir().unwrap();
    let database = Arc::new(
        Database::open_in(
            dir.path(),
            &campaign_safe_lib::vault::DataKey::generate().unwrap(),
        )
        .unwrap(),
    );
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 14, 0, 0).unwrap();
    let clock = Arc::new(TestClock(Mutex::new(start)));
    let session = NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: "Ward 3".into(),
        participants: vec!["Asha".into(), "Ben".into()],
        place: String::new(),
        notes: String::new(),
        escalation: vec![EscalationContact {
            name: "Office".into(),
            phone: "101".into(),
            relationship: String::new(),
        }],
        ends_at: Some(start + chrono::Duration::hours(3)),
        interval_minutes: Some(30),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    };
    let id = checkins::start(
        &mut database.conn(),
        &session,
        start,
        &checkins::Actor::here(),
        &checkins::NoSink,
    )
    .unwrap();
    let handle = SchedulerHandle::default();
    let changes = campaign_safe_lib::changes::Changes::default();
    changes.listen(Arc::new(handle.clone()));
    let _alarms = AlarmHub::new(
        database.clone(),
        clock.clone(),
        Arc::new(DesktopNotifier::new(
            "Campaign Safe",
            runtime.handle().clone(),
        )),
        Arc::new(Headless),
        Arc::new(checkins::NoSink),
        changes.clone(),
    );
    let runner = Runner {
        database: database.clone(),
        clock: clock.clone(),
        sink: Arc::new(checkins::NoSink),
        changes,
        handle,
    };

    *clock.0.lock().unwrap() = start + chrono::Duration::minutes(25);
    runner.tick();
    let reminder = server.wait_for("Check in: Ward 3");
    assert_eq!(
        reminder.body,
        "Due at 14:30. Let your team know you are OK."
    );
    assert_eq!(
        reminder.actions,
        [
            "default",
            "Open Campaign Safe",
            "check-in",
            "Check in – I’m OK",
            "snooze-5",
            "Snooze 5 min"
        ]
    );
    assert_eq!(reminder.urgency, Some(1));

    *clock.0.lock().unwrap() = start + chrono::Duration::minutes(27);
    // The notice is taken down before the answer is applied: wait for the check-in itself.
    let checked_in = || {
        checkins::timeline(&database.conn(), id)
            .unwrap()
            .iter()
            .any(|e| e.kind == "checked_in")
    };
    server.press(reminder.id, "check-in", || {
        checked_in() && server.closed().contains(&reminder.id)
    });
    let timeline = checkins::timeline(&database.conn(), id).unwrap();
    let event = timeline
        .iter()
        .find(|e| e.kind == "checked_in")
        .expect("the check-in from the notification was recorded");
    assert_eq!(event.by_whom, "notification");
}
