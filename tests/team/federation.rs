//! One team across two homeservers that federate on 127.0.0.1 (issue 27, section 1): the
//! party's server A holds the room; a campaign's server B joins it. Asha's and Carl's laptops
//! are on A with Ann's phone; the office's laptop and Vic's phone are on B. Check-ins, HELP,
//! a missed check-in (one post) and its acknowledgement cross between the two. Then B stops:
//! A's members keep working, B's laptop raises its own alarm, and once B is back everything
//! converges with one "missed" post, as both phones read the room.

use std::time::Duration;

use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use serde_json::{json, Value};

use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::relay::wire::WireKind;

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer::{self, join_as_volunteer, volunteer};

/// Bounds, not pauses: federation adds a hop, and a loaded 2-core machine runs four servers.
const LONG: Duration = Duration::from_secs(60);
const WARD: &str = "Ward 4";

/// How many posts of `kind` about `due` a phone reads in the room, copies taken back aside.
async fn missed_posts(phone: &matrix_sdk::Client, room: &str, due: i64) -> usize {
    volunteer::posts(phone, room)
        .await
        .iter()
        .filter(|content: &&Value| {
            let field = &content["uk.campaignsafe.checkin"];
            field["event"] == json!(WireKind::Missed) && field["dueAt"] == json!(due)
        })
        .count()
}

/// Waits until every device shows exactly `kinds`; a failure says what each one showed.
async fn all_show(devices: &[&Device], kinds: &[AlarmKind], what: &str) {
    let deadline = std::time::Instant::now() + LONG;
    while !devices.iter().all(|d| d.alarm_kinds() == kinds) {
        if std::time::Instant::now() > deadline {
            let seen: Vec<String> = devices.iter().map(|d| d.alarm_state()).collect();
            panic!("waited {LONG:?} for: {what}; saw\n{}", seen.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_team_across_two_federated_servers_keeps_working_when_one_is_down() {
    super::room_trust::log();
    let (server_a, mut server_b) = Synapse::start_federating_pair().await;
    let asha = Device::new("asha", &server_a).await;
    let carl = Device::new("carl", &server_a).await;
    let office = Device::new("office", &server_b).await;
    let ann = volunteer("ann", &server_a).await;
    let vic = volunteer("vic", &server_b).await;
    let vic_id = vic.user_id().unwrap().to_string();
    assert!(
        vic_id.ends_with(&server_b.server_name) && asha.user_id.ends_with(&server_a.server_name),
        "{vic_id} {}",
        asha.user_id
    );
    let team = asha.team.create_team("Ward 4 team").await.expect("team");
    let ann_id = ann.user_id().unwrap().to_string();
    for member in [&carl.user_id, &office.user_id, &vic_id, &ann_id] {
        asha.team
            .invite(&team.room_id, member)
            .await
            .expect("invite");
    }
    carl.join_when_invited(&team.link, "Ward 4").await;
    office.join_when_invited(&team.link, "Ward 4").await;
    join_as_volunteer(&vic, &team.room_id).await;
    join_as_volunteer(&ann, &team.room_id).await;
    wait_until("Asha's laptop knows everyone joined", LONG, || async {
        asha.knows_app_of(&carl.user_id)
            && asha.knows_app_of(&office.user_id)
            && asha.events_seen_from(&vic_id) > 0
            && asha.events_seen_from(&ann_id) > 0
    })
    .await;

    // A session out with Vic on it: it reaches both servers' laptops; Asha's check-in too.
    let session = asha.start(WARD, &["Asha", "Vic"], "Quarry Lane", "", 15);
    asha.share(session, &team.room_id, std::slice::from_ref(&vic_id));
    for device in [&carl, &office] {
        wait_until(
            "the session reaches Carl (A) and the office (B)",
            LONG,
            || async { device.session(WARD).is_some() },
        )
        .await;
    }
    asha.check_in(WARD);
    let due = asha.next_due(WARD);
    for device in [&carl, &office] {
        wait_until("Asha's check-in crosses to B", LONG, || async {
            device.next_due(WARD) == due
        })
        .await;
    }

    // Vic, on B, calls for help; the office, on B, deals with it: all three laptops follow.
    volunteer::send(
        &vic,
        &team.room_id,
        RoomMessageEventContent::text_plain("HELP"),
    )
    .await;
    all_show(
        &[&asha, &carl, &office],
        &[AlarmKind::Help],
        "Vic's HELP reaches every laptop",
    )
    .await;
    office.acknowledge(WARD);
    for device in [&asha, &carl, &office] {
        wait_until("the office's answer reaches A", LONG, || async {
            device.alarm_kinds().is_empty()
        })
        .await;
    }

    // Nobody checks in: every laptop raises its alarm; both phones read one "missed".
    for device in [&asha, &carl, &office] {
        device.advance_minutes(16);
    }
    all_show(
        &[&asha, &carl, &office],
        &[AlarmKind::Missed],
        "every laptop raises the missed alarm",
    )
    .await;
    for phone in [&ann, &vic] {
        wait_until("each phone reads one missed post", LONG, || async {
            missed_posts(phone, &team.room_id, due).await == 1
        })
        .await;
    }
    carl.acknowledge(WARD);
    for device in [&asha, &carl, &office] {
        wait_until("Carl's answer reaches B", LONG, || async {
            device.alarm_kinds().is_empty() && device.outbox_waiting() == 0
        })
        .await;
    }

    // B stops. On A, Asha checks in and Carl sees it; then nobody checks in: Asha's and Carl's
    // laptops raise the alarm through A, the office's raises its own without its server.
    asha.check_in(WARD);
    let due = asha.next_due(WARD);
    wait_until(
        "the check-in reaches the office before B stops",
        LONG,
        || async { office.next_due(WARD) == due },
    )
    .await;
    server_b.stop();
    asha.check_in(WARD);
    let due = asha.next_due(WARD);
    wait_until(
        "A keeps working: Carl sees Asha's check-in",
        LONG,
        || async { carl.next_due(WARD) == due },
    )
    .await;
    for device in [&asha, &carl, &office] {
        device.advance_minutes(31);
    }
    all_show(
        &[&asha, &carl, &office],
        &[AlarmKind::Missed],
        "every laptop raises its alarm, B's without B",
    )
    .await;
    wait_until("Ann, on A, reads the missed post", LONG, || async {
        missed_posts(&ann, &team.room_id, due).await == 1
    })
    .await;

    // B is back: the office catches up, and both phones read one missed post for the due
    // time the office's laptop knew nothing about. Nobody posts a copy that stays.
    server_b.launch().await;
    office.reconnect();
    for phone in [&vic, &ann] {
        wait_until(
            "both phones read one missed post after B is back",
            LONG,
            || async { missed_posts(phone, &team.room_id, due).await == 1 },
        )
        .await;
    }
    wait_until("the office has caught up", LONG, || async {
        office.next_due(WARD) == due && office.outbox_waiting() == 0
    })
    .await;
    asha.acknowledge(WARD);
    for device in [&asha, &carl, &office] {
        wait_until("Asha's answer reaches B after the outage", LONG, || async {
            device.alarm_kinds().is_empty()
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    for phone in [&ann, &vic] {
        assert_eq!(missed_posts(phone, &team.room_id, due).await, 1);
    }
}
