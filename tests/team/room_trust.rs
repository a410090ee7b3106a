//! What a team room may and may not do to a device's check-ins, through a real Synapse:
//! a hostile member on a plain matrix-sdk client, a device closed while the room goes on, a
//! burst of 1,000 events, and the owner's device killed (SIGKILL) before a check-in is missed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::relay::wire::WireKind;

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer;
use super::{count, SHORT};

const WARD: &str = "Ward 3";

/// The app's log in the test's output (RUST_LOG=campaign_safe_lib=debug for more).
pub(super) fn log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "campaign_safe_lib=info".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A team of the given devices (the first creates it) and plain clients, all joined.
pub(super) async fn team_of(devices: &[&Device], clients: &[&matrix_sdk::Client]) -> String {
    let team = devices[0]
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    for device in &devices[1..] {
        devices[0]
            .team
            .invite(&team.room_id, &device.user_id)
            .await
            .expect("invite");
        device.join_when_invited(&team.link, "Ward 3").await;
    }
    for client in clients {
        let user = client.user_id().unwrap().to_string();
        devices[0]
            .team
            .invite(&team.room_id, &user)
            .await
            .expect("invite");
        volunteer::join_as_volunteer(client, &team.room_id).await;
    }
    team.room_id
}

/// The app's field of the room's "started" post for the session called `title`.
pub(super) async fn started(client: &matrix_sdk::Client, room: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let posts = volunteer::posts(client, room).await;
        if let Some(post) = posts
            .iter()
            .find(|p| p["uk.campaignsafe.checkin"]["event"] == "started")
        {
            return post["uk.campaignsafe.checkin"].clone();
        }
        assert!(Instant::now() < deadline, "no started post: {posts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(super) fn forged(field: Value) -> Value {
    json!({"msgtype": "m.notice", "body": "✅ all fine", "uk.campaignsafe.checkin": field})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hostile_member_changes_nothing_and_alarms_still_come() {
    log();
    let server = Synapse::start().await;
    let a = Device::new("asha", &server).await;
    let b = Device::new("office", &server).await;
    let mallory = volunteer::volunteer("mallory", &server).await;
    let room = team_of(&[&a, &b], &[&mallory]).await;
    let ward = a.start(
        WARD,
        &["Priya Shah", "Tomasz Nowak"],
        "Acacia Avenue",
        "",
        5,
    );
    a.share(ward, &room, &[]);
    wait_until("B tracks the canvass", SHORT, || async {
        b.session(WARD).is_some()
    })
    .await;
    let before = (a.next_due(WARD), b.next_due(WARD));
    let field = started(&mallory, &room).await;
    let session = field["session"].clone();
    let now = chrono::Utc::now().timestamp_millis();

    // Every kind of change, for Asha's session, from Mallory's own client.
    let base = json!({"v": 1, "session": session, "at": now, "by": "Asha Patel", "how": "app"});
    let with = |extra: Value| {
        let mut field = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            field[k] = v.clone();
        }
        forged(field)
    };
    for extra in [
        json!({"event": "checked_in"}),
        json!({"event": "extended", "minutes": 60}),
        json!({"event": "snoozed"}),
        json!({"event": "help"}),
        json!({"event": "missed", "dueAt": before.0}),
        json!({"event": "ended"}),
        // Numbers no device may do sums with, and dates no check-in can have.
        json!({"event": "checked_in", "at": i64::MAX, "nextDueAt": i64::MAX}),
        json!({"event": "checked_in", "at": -5}),
        json!({"event": "checked_in", "at": -2_208_988_800_000i64}),
        json!({"event": "checked_in", "at": 4_102_444_800_000i64}),
        json!({"event": "extended", "minutes": u32::MAX}),
        json!({"v": 99, "event": "ended"}),
    ] {
        volunteer::send_raw(&mallory, &room, with(extra)).await;
    }
    // Sessions of her own that the form would refuse.
    for info in [
        json!({"title": "x".repeat(8_000), "participants": ["A"]}),
        json!({"title": "Crowd", "participants": vec!["Volunteer"; 100]}),
        json!({"title": "Never", "participants": ["A"], "startedAt": i64::MAX}),
    ] {
        let mut shared = json!({"kind": "canvass", "place": "", "notes": "", "escalation": [],
            "intervalMinutes": 30, "graceMinutes": 10, "startedAt": now, "chatMembers": []});
        for (k, v) in info.as_object().unwrap() {
            shared[k] = v.clone();
        }
        volunteer::send_raw(
            &mallory,
            &room,
            forged(json!({"v": 1, "event": "started", "session": uuid::Uuid::new_v4().to_string(),
                "at": now, "nextDueAt": now + 1_800_000, "endsAt": now + 7_200_000, "info": shared})),
        )
        .await;
    }
    for device in [&a, &b] {
        wait_until(
            "each device notes that Mallory may not end Asha's session",
            Duration::from_secs(20),
            || async {
                device
                    .ignored(WARD)
                    .iter()
                    .any(|t| t.contains("can end this session"))
            },
        )
        .await;
    }
    // The last of her posts is read too before anything is checked.
    volunteer::send_raw(
        &mallory,
        &room,
        with(json!({"event": "snoozed", "by": "last"})),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for device in [&a, &b] {
        assert_eq!(
            (device.session(WARD).is_some(), device.alarm_kinds()),
            (true, vec![]),
            "{}: still running, no alarm",
            device.user_id
        );
        assert_eq!(
            device.tracked_sessions(),
            if device.user_id == b.user_id { 1 } else { 0 }
        );
        let ignored = device.ignored(WARD);
        for words in [
            "check in for",
            "can extend",
            "can snooze",
            "ask for help",
            "can end",
        ] {
            assert!(
                ignored.iter().any(|t| t.contains(words)),
                "{}: no refusal saying “{words}”: {ignored:?}",
                device.user_id
            );
        }
        assert!(
            ignored
                .iter()
                .all(|t| t.starts_with("A change from mallory")),
            "the real sender is named: {ignored:?}"
        );
    }
    assert_eq!((a.next_due(WARD), b.next_due(WARD)), before);

    // The scheduler still works: a journey started now alarms on every device when missed.
    let journey = a.start("Home", &["Asha"], "", "", 5);
    a.share(journey, &room, &[]);
    wait_until("B tracks the journey", SHORT, || async {
        b.session("Home").is_some()
    })
    .await;
    for device in [&a, &b] {
        device.advance_minutes(16);
    }
    for device in [&a, &b] {
        wait_until("the journey's alarm goes off", SHORT, || async {
            device.alarm_kinds().contains(&AlarmKind::Missed)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_away_through_a_gap_and_a_burst_misses_nothing() {
    log();
    let server = Synapse::start().await;
    let a = Device::new("asha", &server).await;
    let b = Device::new("office", &server).await;
    let vic = volunteer::volunteer("vic", &server).await;
    let room = team_of(&[&a, &b], &[&vic]).await;
    let ward = a.start(WARD, &["Priya Shah", "Tomasz Nowak"], "", "", 5);
    a.share(ward, &room, &[]);
    wait_until("B tracks the canvass", SHORT, || async {
        b.session(WARD).is_some()
    })
    .await;

    // B is closed while 150 events arrive, a check-in among them; opened again, it has it.
    b.team.stop().await;
    for i in 0..75 {
        volunteer::send_raw(
            &vic,
            &room,
            json!({"msgtype": "m.text", "body": format!("door {i}")}),
        )
        .await;
    }
    a.check_in(WARD);
    let due = a.next_due(WARD);
    wait_until("A's check-in goes out", SHORT, || async {
        a.outbox_waiting() == 0
    })
    .await;
    for i in 75..150 {
        volunteer::send_raw(
            &vic,
            &room,
            json!({"msgtype": "m.text", "body": format!("door {i}")}),
        )
        .await;
    }
    b.team.restore().await;
    wait_until(
        "B, opened again, finds the check-in among 150 events",
        Duration::from_secs(30),
        || async { b.next_due(WARD) == due },
    )
    .await;

    // A burst of 1,000 events: every one is read, and a check-in sent right after it counts
    // on B at once.
    let began = Instant::now();
    volunteer::send_many(&vic, &room, 1_000).await;
    let sent = began.elapsed();
    a.check_in(WARD);
    let due = a.next_due(WARD);
    let ok_sent = Instant::now();
    wait_until(
        "A's check-in after the burst reaches B",
        Duration::from_secs(60),
        || async { b.next_due(WARD) == due },
    )
    .await;
    let ok_arrived = ok_sent.elapsed();
    wait_until(
        "B has read every event of the burst",
        Duration::from_secs(60),
        || async { b.events_seen_from(vic.user_id().unwrap().as_ref()) >= 1_000 },
    )
    .await;
    println!(
        "burst: 1,000 events sent in {sent:?}, all read on B in {:?}; the check-in after it reached B in {ok_arrived:?}",
        began.elapsed()
    );
}

/// Run by the kill test below as a child process: the owner's device. It signs in as
/// "owner", joins the team it is invited to, starts a canvass and shares it, says so on
/// standard output, and waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_device_in_a_child_process() {
    let (Ok(port), Ok(token)) = (
        std::env::var("CAMPAIGN_SAFE_TEST_OWNER_PORT"),
        std::env::var("CAMPAIGN_SAFE_TEST_OWNER_TOKEN"),
    ) else {
        return;
    };
    let server = Synapse::running_at(port.parse().unwrap(), &token);
    let owner = Device::new("owner", &server).await;
    println!("signed in");
    wait_until(
        "the invitation arrives",
        Duration::from_secs(60),
        || async {
            owner
                .team
                .status()
                .await
                .map(|s| !s.invitations.is_empty())
                .unwrap_or(false)
        },
    )
    .await;
    let invitation = owner.team.status().await.unwrap().invitations[0].clone();
    owner
        .team
        .join_team(&invitation.room_id, "Ward 3")
        .await
        .expect("join");
    let ward = owner.start(WARD, &["Priya Shah", "Tomasz Nowak"], "", "", 5);
    owner.share(ward, &invitation.room_id, &[]);
    wait_until("the share goes out", Duration::from_secs(30), || async {
        owner.outbox_waiting() == 0
    })
    .await;
    println!("shared");
    std::mem::forget(server);
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_owner_s_device_is_killed_one_other_device_posts_the_missed_check_in() {
    log();
    let server = Synapse::start().await;
    let b = Device::new("office", &server).await;
    let c = Device::new("cat", &server).await;
    let vic = volunteer::volunteer("vic", &server).await;
    let room = team_of(&[&b, &c], &[&vic]).await;

    let mut owner = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "room_trust::owner_device_in_a_child_process",
            "--nocapture",
        ])
        .env("CAMPAIGN_SAFE_TEST_OWNER_PORT", server.port.to_string())
        .env("CAMPAIGN_SAFE_TEST_OWNER_TOKEN", &server.token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut said = BufReader::new(owner.stdout.take().unwrap()).lines();
    let mut wait_for_line = |line: &str| {
        for heard in said.by_ref() {
            if heard.unwrap().contains(line) {
                return;
            }
        }
        panic!("the owner's device ended before saying “{line}”");
    };
    tokio::task::block_in_place(|| wait_for_line("signed in"));
    b.team
        .invite(&room, "@owner:localhost")
        .await
        .expect("invite");
    tokio::task::block_in_place(|| wait_for_line("shared"));
    for device in [&b, &c] {
        wait_until(
            "B and C track the owner's canvass",
            Duration::from_secs(20),
            || async { device.session(WARD).is_some() },
        )
        .await;
    }
    // Each app has heard the others' (they announce themselves when someone joins).
    for (device, other) in [(&b, &c), (&c, &b)] {
        wait_until(
            "B and C know each other's apps",
            Duration::from_secs(30),
            || async {
                device.knows_app_of(&other.user_id) && device.knows_app_of("@owner:localhost")
            },
        )
        .await;
    }
    let due = b.next_due(WARD);
    owner.kill().unwrap(); // SIGKILL: its alarms and posts die with it.
    owner.wait().unwrap();

    for device in [&b, &c] {
        device.advance_minutes(16);
    }
    for device in [&b, &c] {
        wait_until("each device raises its own alarm", SHORT, || async {
            device.alarm_kinds() == [AlarmKind::Missed]
        })
        .await;
    }
    wait_until(
        "one of B and C posts the missed check-in",
        Duration::from_secs(30),
        || async { count(&vic, &room, WireKind::Missed, due).await == 1 },
    )
    .await;
    // Long enough for the other to have posted too, had it not seen the first.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(count(&vic, &room, WireKind::Missed, due).await, 1);
    assert_eq!(
        volunteer::redacted_count(&vic, &room).await,
        0,
        "no copy was posted, so none was taken back"
    );
}
