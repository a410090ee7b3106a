//! Team check-ins between three app backends (no windows) and a volunteer on a plain Matrix
//! client, through a real Synapse on 127.0.0.1. One server for the whole story, told in
//! steps; a failing wait says which step it was waiting for.

#[path = "team/away_for_days.rs"]
mod away_for_days;
#[path = "team/comparing_numbers.rs"]
mod comparing_numbers;
#[path = "team/device_trust.rs"]
mod device_trust;
#[path = "team/duress.rs"]
mod duress;
#[path = "team/federation.rs"]
mod federation;
#[path = "support/holding_proxy.rs"]
mod holding_proxy;
#[path = "team/member_flood.rs"]
mod member_flood;
#[path = "team/member_list.rs"]
mod member_list;
#[path = "team/room_trust.rs"]
mod room_trust;
#[path = "support/synapse.rs"]
mod synapse;
#[path = "support/team_device.rs"]
mod team_device;
#[allow(dead_code)] // Each test binary uses its own part of the shared support.
#[path = "support/volunteer.rs"]
mod volunteer;
#[path = "team/whereabouts.rs"]
mod whereabouts;
#[path = "team/witness.rs"]
mod witness;

use std::time::{Duration, Instant};

use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use serde_json::{json, Value};

use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::relay::wire::WireKind;
use campaign_safe_lib::time::Clock;
use synapse::Synapse;
use team_device::{wait_until, wait_until_seen, Device};
use volunteer::volunteer;

/// Names, places and notes that must never reach the server in clear.
const SECRETS: &[&str] = &[
    "Priya Shah",
    "Tomasz Nowak",
    "Acacia Avenue",
    "Quarry Lane",
    "green umbrella",
];
const WARD: &str = "Ward 3";
const PATCH: &str = "Vic's patch";
/// A bound, not a pause: each wait ends as soon as its state is reached. Four Synapse
/// servers and a dozen clients on a loaded 2-core CI machine can need more than 5 s.
const SHORT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_devices_and_a_volunteer_keep_canvassers_safe_through_synapse() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "campaign_safe_lib=info".into()),
        )
        .with_test_writer()
        .try_init();
    let mut server = Synapse::start().await;

    // --- Set-up: each registers with the server's token; A creates the team, B and C join.
    let a = Device::new("asha", &server).await;
    let b = Device::new("office", &server).await;
    let c = Device::new("cat", &server).await;
    let team = a
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    assert!(
        team.link.starts_with("https://matrix.to/#/!"),
        "{}",
        team.link
    );
    assert!(!team.qr.is_empty(), "the invite has a QR code");
    // C kept a door before joining: the team is sent it on joining.
    campaign_safe_lib::donotknock::add(
        &c.database.conn(),
        &campaign_safe_lib::donotknock::EntryInput {
            house: "8".into(),
            street: "Quarry Lane".into(),
            reason: "asked-not-to-visit".into(),
            added_by: "Cat".into(),
            ..Default::default()
        },
        c.clock.now(),
        &campaign_safe_lib::relay::register::TeamDoors,
    )
    .expect("door kept before joining");
    let vic = volunteer("vic", &server).await;
    let vic_id = vic.user_id().unwrap().to_string();
    for member in [&b.user_id, &c.user_id, &vic_id] {
        a.team.invite(&team.room_id, member).await.expect("invite");
    }
    for device in [&b, &c] {
        device.join_when_invited(&team.link, "Ward 3").await;
    }
    for device in [&a, &b] {
        wait_until(
            "the door C kept before joining reaches A and B",
            Duration::from_secs(30),
            || async { device.doors() == ["8 Quarry Lane"] },
        )
        .await;
    }
    // Posts from before a device joined were never meant for it: it does not wait for them.
    for device in [&a, &b, &c] {
        let status = device.team.status().await.expect("status");
        assert_eq!(status.unreadable, 0, "{}: {status:?}", device.user_id);
    }
    volunteer::join_as_volunteer(&vic, &team.room_id).await;
    // Generous: on a loaded 2-core machine A's sync can take long to bring Vic's join.
    wait_until_seen(
        "A sees B, C and Vic joined",
        Duration::from_secs(120),
        || async {
            let members = a.team.members(&team.room_id).await;
            let joined = members
                .as_ref()
                .map(|m| m.iter().filter(|m| !m.name.ends_with("(invited)")).count());
            if matches!(joined, Ok(4)) {
                return Ok(());
            }
            // On a failure, whether A's sync was still running says where to look.
            let status = a.team.status().await;
            let names: Vec<String> = members
                .map(|m| m.into_iter().map(|m| m.name).collect())
                .unwrap_or_default();
            Err(format!(
                "members {names:?}; A's connection {:?}, last sync {:?}",
                status.as_ref().map(|s| &s.connection),
                status.as_ref().map(|s| s.last_sync)
            ))
        },
    )
    .await;
    let members = a.team.members(&team.room_id).await.unwrap();
    assert!(
        members
            .iter()
            .any(|m| m.user_id == b.user_id && !m.devices.is_empty()),
        "members are listed with their devices: {members:?}"
    );

    // --- A shares a canvass; B and C see it (the time it took is printed).
    let ward = a.start(
        WARD,
        &["Priya Shah", "Tomasz Nowak"],
        "Acacia Avenue",
        "green umbrella",
        5,
    );
    let shared_at = Instant::now();
    a.share(ward, &team.room_id, &[]);
    for device in [&b, &c] {
        wait_until("B and C track the shared session", SHORT, || async {
            device.session(WARD).is_some()
        })
        .await;
    }
    println!(
        "a shared session reached B and C in {:?}",
        shared_at.elapsed()
    );

    // --- A checks in; B and C see it. B may not check in for A's session.
    a.check_in(WARD);
    let due = a.next_due(WARD);
    for device in [&b, &c] {
        wait_until("B and C see A's check-in", SHORT, || async {
            device.next_due(WARD) == due
        })
        .await;
    }
    assert!(
        b.try_check_in(WARD).is_err(),
        "only A's devices check in for A's session"
    );

    // --- Vic, on a plain client: "ok" in reply to the reminder, a 👍, then HELP.
    let patch = a.start(PATCH, &["Vic"], "", "", 15);
    a.share(patch, &team.room_id, std::slice::from_ref(&vic_id));
    // A reminder comes at most half the interval before the check-in: 7½ minutes on.
    for device in [&a, &b, &c] {
        device.advance_minutes(8);
    }
    let reminder = volunteer::wait_for_reminder(&vic, &team.room_id).await;
    volunteer::reply(&vic, &team.room_id, &reminder, "ok").await;
    for device in [&a, &b, &c] {
        wait_until("Vic's reply is a check-in from chat", SHORT, || async {
            device.last_check_in_by(PATCH) == format!("{vic_id} (chat)")
        })
        .await;
    }
    let after_reply = a.next_due(PATCH);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    volunteer::react(&vic, &team.room_id, &reminder, "👍").await;
    for device in [&a, &b, &c] {
        wait_until("Vic's 👍 checks in again", SHORT, || async {
            device.next_due(PATCH) > after_reply
        })
        .await;
    }
    volunteer::send(
        &vic,
        &team.room_id,
        RoomMessageEventContent::text_plain("HELP"),
    )
    .await;
    for device in [&a, &b, &c] {
        wait_until("HELP raises the alarm everywhere", SHORT, || async {
            device.alarm_kinds() == [AlarmKind::Help]
        })
        .await;
    }
    b.acknowledge(PATCH);
    a.end(PATCH);
    for device in [&a, &b, &c] {
        wait_until("Vic's session is over everywhere", SHORT, || async {
            device.session(PATCH).is_none() && device.alarm_kinds().is_empty()
        })
        .await;
    }

    // --- Nobody checks in: each device raises exactly one alarm; the room gets one "missed".
    for device in [&a, &b, &c] {
        device.advance_minutes(16);
    }
    for device in [&a, &b, &c] {
        wait_until("every device raises its missed alarm", SHORT, || async {
            device.alarm_kinds() == [AlarmKind::Missed]
        })
        .await;
    }
    wait_until(
        "the room holds one missed post",
        Duration::from_secs(15),
        || async { count(&vic, &team.room_id, WireKind::Missed, due).await == 1 },
    )
    .await;
    // B and C held theirs, saw A's, and dropped them.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(count(&vic, &team.room_id, WireKind::Missed, due).await, 1);
    for device in [&a, &b, &c] {
        assert_eq!(
            device.events(WARD, "missed"),
            1,
            "one alarm on {}",
            device.user_id
        );
    }

    // --- B acknowledges: the alarm stops on all three.
    b.acknowledge(WARD);
    for device in [&a, &b, &c] {
        wait_until("the acknowledgement stops every alarm", SHORT, || async {
            device.alarm_kinds().is_empty()
        })
        .await;
    }

    // --- The next due time passes: still one post, and no copy to take back.
    a.check_in(WARD);
    let due = a.next_due(WARD);
    for device in [&b, &c] {
        wait_until("the check-in reaches B and C", SHORT, || async {
            device.next_due(WARD) == due
        })
        .await;
    }
    for device in [&a, &b, &c] {
        device.advance_minutes(16);
    }
    wait_until(
        "one missed post for the second due time",
        Duration::from_secs(20),
        || async { count(&vic, &team.room_id, WireKind::Missed, due).await == 1 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(count(&vic, &team.room_id, WireKind::Missed, due).await, 1);
    assert_eq!(
        volunteer::redacted_count(&vic, &team.room_id).await,
        0,
        "no copy was posted, so none was taken back"
    );
    for device in [&a, &b, &c] {
        assert_eq!(
            device.events(WARD, "missed"),
            2,
            "one alarm per due time on {}",
            device.user_id
        );
    }
    b.acknowledge(WARD);
    for device in [&a, &b, &c] {
        wait_until(
            "all settled before the outage",
            Duration::from_secs(15),
            || async { device.outbox_waiting() == 0 && device.alarm_kinds().is_empty() },
        )
        .await;
    }

    // --- The server goes down across a due time and nobody checks in: every device raises
    // its alarm offline, and when the server is back the room gets one post, none taken back.
    a.check_in(WARD);
    let due = a.next_due(WARD);
    for device in [&b, &c] {
        wait_until("the check-in reaches B and C", SHORT, || async {
            device.next_due(WARD) == due
        })
        .await;
    }
    server.stop();
    for device in [&a, &b, &c] {
        device.advance_minutes(16);
    }
    for device in [&a, &b, &c] {
        wait_until("each device raises its alarm offline", SHORT, || async {
            device.alarm_kinds() == [AlarmKind::Missed]
        })
        .await;
    }
    server.launch().await;
    for device in [&a, &b, &c] {
        device.reconnect();
    }
    wait_until(
        "one missed post after the outage",
        Duration::from_secs(40),
        || async { count(&vic, &team.room_id, WireKind::Missed, due).await == 1 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(count(&vic, &team.room_id, WireKind::Missed, due).await, 1);
    assert_eq!(volunteer::redacted_count(&vic, &team.room_id).await, 0);
    b.acknowledge(WARD);
    for device in [&a, &b, &c] {
        wait_until(
            "all settled before the next outage",
            Duration::from_secs(20),
            || async { device.outbox_waiting() == 0 && device.alarm_kinds().is_empty() },
        )
        .await;
    }

    // --- The server goes down. Everyone's alarm fires; A checks in while offline; B and C
    // cannot know. When it is back, A's check-in goes out and nobody posts "missed".
    a.check_in(WARD);
    let due = a.next_due(WARD);
    for device in [&b, &c] {
        wait_until("A's check-in is heard before the outage", SHORT, || async {
            device.next_due(WARD) == due
        })
        .await;
    }
    server.stop();
    for device in [&a, &b, &c] {
        device.advance_minutes(16);
    }
    for device in [&a, &b, &c] {
        wait_until(
            "each device raises its own alarm offline",
            SHORT,
            || async { device.alarm_kinds() == [AlarmKind::Missed] },
        )
        .await;
    }
    a.check_in(WARD);
    let due = a.next_due(WARD);
    assert!(
        a.outbox_waiting() >= 1 && b.outbox_waiting() >= 1,
        "the check-in and B's missed post wait in the outbox"
    );
    let offline = a.team.status().await.unwrap();
    assert!(offline.waiting >= 1, "{offline:?}");
    server.launch().await;
    for device in [&a, &b, &c] {
        device.reconnect();
    }
    wait_until(
        "B and C hear A's check-in and drop their stale missed posts",
        Duration::from_secs(40),
        || async {
            [&b, &c].iter().all(|d| {
                d.outbox_waiting() == 0 && d.alarm_kinds().is_empty() && d.next_due(WARD) == due
            })
        },
    )
    .await;
    assert_eq!(
        count(&vic, &team.room_id, WireKind::CheckedIn, due).await,
        1,
        "A's check-in, once"
    );
    assert_eq!(
        count(&vic, &team.room_id, WireKind::Missed, due - 15 * 60_000).await,
        0,
        "the missed check-in was answered before anyone posted it: {}",
        b.report().await
    );

    // --- A do-not-knock door added on A reaches B and C; taken off on A, it goes there too.
    let door = campaign_safe_lib::donotknock::add(
        &a.database.conn(),
        &campaign_safe_lib::donotknock::EntryInput {
            house: "27".into(),
            street: "Acacia Avenue".into(),
            reason: "threat-or-violence".into(),
            note: "Threatened Priya with a dog".into(),
            added_by: "Asha".into(),
            ..Default::default()
        },
        a.clock.now(),
        &campaign_safe_lib::relay::register::TeamDoors,
    )
    .expect("door added");
    a.doors_changed();
    for device in [&b, &c] {
        wait_until(
            "the door reaches B and C",
            Duration::from_secs(30),
            || async { device.doors() == ["27 Acacia Avenue", "8 Quarry Lane"] },
        )
        .await;
    }
    campaign_safe_lib::donotknock::remove(
        &a.database.conn(),
        door.id,
        a.clock.now(),
        &campaign_safe_lib::relay::register::TeamDoors,
    )
    .unwrap();
    a.doors_changed();
    wait_until("the removal reaches B", Duration::from_secs(30), || async {
        b.doors() == ["8 Quarry Lane"]
    })
    .await;

    // --- The server keeps no name, place or note in clear.
    let stored = server.stored_bytes();
    assert!(stored.len() > 100_000, "the server's database was read");
    for secret in SECRETS {
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the server stored “{secret}” in clear"
        );
    }
}

/// How many unredacted posts of `kind` about `due` the room holds, as Vic's client reads it.
async fn count(vic: &matrix_sdk::Client, room: &str, kind: WireKind, due: i64) -> usize {
    volunteer::posts(vic, room)
        .await
        .iter()
        .filter(|content: &&Value| {
            let field = &content["uk.campaignsafe.checkin"];
            field["event"] == json!(kind)
                && match kind {
                    WireKind::CheckedIn => field["nextDueAt"] == json!(due),
                    _ => field["dueAt"] == json!(due),
                }
        })
        .count()
}
