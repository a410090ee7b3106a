//! Real notifications over a real, private D-Bus session bus, with a recording
//! org.freedesktop.Notifications server standing in for the desktop's. Its own test binary,
//! because the bus address is process-wide.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

use campaign_safe_lib::checkins::runner::{AlertSink, Runner, SchedulerHandle};
use campaign_safe_lib::checkins::scheduler::Alert;
use campaign_safe_lib::checkins::{self, EscalationContact, Kind, Mode, NewSession};
use campaign_safe_lib::notify::{
    DesktopNotifier, Notice, NoticeAction, Notifier, Response, Urgency,
};
use campaign_safe_lib::storage::Database;
use campaign_safe_lib::time::Clock;
use chrono::{DateTime, TimeZone, Utc};

#[derive(Debug, Clone)]
struct Sent {
    id: u32,
    app_name: String,
    summary: String,
    body: String,
    actions: Vec<String>,
    urgency: Option<u8>,
    expire_timeout: i32,
}

struct Recorder {
    sent: Arc<Mutex<Vec<Sent>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        expire_timeout: i32,
    ) -> u32 {
        let mut sent = self.sent.lock().unwrap();
        let id = sent.len() as u32 + 1;
        let urgency = hints
            .get("urgency")
            .and_then(|value| u8::try_from(value.try_clone().ok()?).ok());
        sent.push(Sent {
            id,
            app_name,
            summary,
            body,
            actions,
            urgency,
            expire_timeout,
        });
        id
    }

    fn close_notification(&self, _id: u32) {}

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "recorder".into(),
            "campaign-safe-tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

const PATH: &str = "/org/freedesktop/Notifications";

fn start_bus() -> (std::process::Child, String) {
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

fn wait_for_count(sent: &Arc<Mutex<Vec<Sent>>>, count: usize) -> Vec<Sent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = sent.lock().unwrap().clone();
        if now.len() >= count {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the server received {} notices, expected {count}",
            now.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn reminder() -> Notice {
    Notice {
        summary: "Check-in due: Ward 3 canvass".into(),
        body: "Due at 14:30. Tap “I’m OK” if you are safe.".into(),
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

#[test]
fn notices_reach_a_real_notification_server_and_its_responses_come_back() {
    let (mut daemon, address) = start_bus();
    // Set before anything opens a session-bus connection in this process.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);

    let sent = Arc::new(Mutex::new(Vec::new()));
    let server = zbus::blocking::connection::Builder::address(address.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at(PATH, Recorder { sent: sent.clone() })
        .unwrap()
        .build()
        .expect("recording server on the private bus");
    let iface = server
        .object_server()
        .interface::<_, Recorder>(PATH)
        .unwrap();

    let notifier = DesktopNotifier::new("Campaign Safe");
    let (tx, rx) = mpsc::channel();

    // Summary, body, actions and urgency arrive as sent; pressing a button comes back.
    let tx1 = tx.clone();
    notifier
        .notify(
            &reminder(),
            Box::new(move |response| tx1.send(response).unwrap()),
        )
        .unwrap();
    let first = wait_for_count(&sent, 1)[0].clone();
    assert_eq!(first.app_name, "Campaign Safe");
    assert_eq!(first.summary, "Check-in due: Ward 3 canvass");
    assert_eq!(first.body, "Due at 14:30. Tap “I’m OK” if you are safe.");
    assert_eq!(
        first.actions,
        ["check-in", "I’m OK — check in", "snooze-5", "Snooze 5 min"]
    );
    assert_eq!(first.urgency, Some(2), "critical urgency");
    assert_eq!(first.expire_timeout, 0, "a critical notice never expires");
    // The handle is waiting on another thread: the notice can be answered later.
    std::thread::sleep(Duration::from_millis(200));
    zbus::block_on(Recorder::action_invoked(
        iface.signal_emitter(),
        first.id,
        "check-in",
    ))
    .unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        Response::Action("check-in".into())
    );

    // A normal notice that is dismissed reports that it closed.
    let tx2 = tx.clone();
    let mut notice = reminder();
    notice.urgency = Urgency::Normal;
    notice.actions.clear();
    notifier
        .notify(
            &notice,
            Box::new(move |response| tx2.send(response).unwrap()),
        )
        .unwrap();
    let second = wait_for_count(&sent, 2)[1].clone();
    assert_eq!(second.urgency, Some(1));
    assert!(second.actions.is_empty());
    std::thread::sleep(Duration::from_millis(200));
    zbus::block_on(Recorder::notification_closed(
        iface.signal_emitter(),
        second.id,
        2,
    ))
    .unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        Response::Closed
    );

    // Through the scheduler: the reminder it sends carries the actions, and pressing
    // "I'm OK" on it records the check-in in the database.
    scheduler_reminder_answered_over_dbus(&sent, &iface);

    // With no notification service on the bus, showing fails with an error, not a panic.
    drop(server);
    let (mut empty_daemon, empty_address) = start_bus();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &empty_address);
    let error = notifier
        .notify(&reminder(), Box::new(|_| {}))
        .expect_err("no notification service");
    assert!(
        error
            .to_string()
            .starts_with("Desktop notifications are not available"),
        "{error}"
    );

    for child in [&mut daemon, &mut empty_daemon] {
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

struct NoWindow;

impl AlertSink for NoWindow {
    fn alert(&self, _: &Alert, _: bool) {}
    fn open_session(&self, _: i64) {}
}

fn scheduler_reminder_answered_over_dbus(
    sent: &Arc<Mutex<Vec<Sent>>>,
    iface: &zbus::blocking::object_server::InterfaceRef<Recorder>,
) {
    let dir = tempfile::tempdir().unwrap();
    let database = Arc::new(Database::open_in(dir.path()).unwrap());
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
    let id = checkins::start(&mut database.conn(), &session, start, "Asha").unwrap();
    let runner = Runner {
        database: database.clone(),
        clock: clock.clone(),
        notifier: Arc::new(DesktopNotifier::new("Campaign Safe")),
        sink: Arc::new(NoWindow),
        handle: SchedulerHandle::default(),
    };

    *clock.0.lock().unwrap() = start + chrono::Duration::minutes(25);
    runner.tick();
    let before = sent.lock().unwrap().len();
    let reminder = wait_for_count(sent, before.max(1))[before.max(1) - 1].clone();
    assert_eq!(reminder.summary, "Check in: Ward 3");
    assert_eq!(
        reminder.body,
        "Due at 14:30. Let your team know you are OK."
    );
    assert_eq!(
        reminder.actions,
        ["check-in", "I’m OK — check in", "snooze-5", "Snooze 5 min"]
    );
    assert_eq!(reminder.urgency, Some(1));

    std::thread::sleep(Duration::from_millis(200));
    *clock.0.lock().unwrap() = start + chrono::Duration::minutes(27);
    zbus::block_on(Recorder::action_invoked(
        iface.signal_emitter(),
        reminder.id,
        "check-in",
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let timeline = checkins::timeline(&database.conn(), id).unwrap();
        if let Some(event) = timeline.iter().find(|e| e.kind == "checked_in") {
            assert_eq!(event.by_whom, "notification");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the check-in from the notification was not recorded"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
