//! Last known location through a real Synapse (issue 26, section 1): Vic's phone (a matrix-sdk
//! client, as Element sends them) shares a pin and then live location, under the unstable and
//! the stable names. Both app devices keep the latest for the session Vic is out on, and the
//! missed alarm and the room's "missed" post say where, how accurately and how long before.
//! A location from someone who is not on the session is not kept, the room lets every member
//! share live location, the server holds no coordinates in clear, and the locations go once
//! the session has been over for the days chosen.

use std::time::Duration;

use matrix_sdk::ruma::events::StateEventType;
use serde_json::json;

use campaign_safe_lib::locations;
use campaign_safe_lib::time::Clock;

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer::{join_as_volunteer, posts, send_raw, volunteer};

const LONG: Duration = Duration::from_secs(60);
const WARD: &str = "Ward 7";

fn last(device: &Device) -> Option<locations::LastLocation> {
    let id = device.session(WARD)?;
    locations::last_known(&device.database.reader(), id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phones_pin_and_live_location_reach_the_alarm_and_the_missed_post() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let asha = Device::new("asha", &server).await;
    let office = Device::new("office", &server).await;
    let team = asha
        .team
        .create_team("Ward 7 team")
        .await
        .expect("create team");
    let vic = volunteer("vic", &server).await;
    let vic_id = vic.user_id().unwrap().to_string();
    let wes = volunteer("wes", &server).await;
    let wes_id = wes.user_id().unwrap().to_string();
    for member in [&office.user_id, &vic_id, &wes_id] {
        asha.team
            .invite(&team.room_id, member)
            .await
            .expect("invite");
    }
    office.join_when_invited(&team.link, "Ward 7").await;
    join_as_volunteer(&vic, &team.room_id).await;
    join_as_volunteer(&wes, &team.room_id).await;
    // Asha's laptop must know who joined before it posts, or it encrypts for the members of
    // before: the office's app announces itself after joining, and Vic's join is an event.
    wait_until(
        "Asha's laptop knows the office and Vic joined",
        LONG,
        || async { asha.knows_app_of(&office.user_id) && asha.events_seen_from(&vic_id) > 0 },
    )
    .await;
    let room = vic
        .get_room(<&matrix_sdk::ruma::RoomId>::try_from(team.room_id.as_str()).unwrap())
        .unwrap();

    // Every member may share live location: beacon_info needs power level 0 here.
    let levels = room.power_levels().await.expect("power levels");
    for kind in ["m.beacon_info", "org.matrix.msc3672.beacon_info"] {
        assert!(
            levels.user_can_send_state(vic.user_id().unwrap(), StateEventType::from(kind)),
            "Vic may not send {kind}"
        );
    }

    // Asha starts Ward 7 and shares it; Vic may check in by chat.
    let session = asha.start(WARD, &["Asha", "Vic"], "Mill Lane", "", 5);
    asha.share(session, &team.room_id, std::slice::from_ref(&vic_id));
    wait_until("the office tracks Ward 7", LONG, || async {
        office.session(WARD).is_some()
    })
    .await;
    let started = posts(&vic, &team.room_id).await;
    assert!(
        started.iter().any(|post| post["body"]
            .as_str()
            .is_some_and(|body| body.contains("please share your live location"))),
        "the started post asks for live location: {started:?}"
    );

    let now_ms = asha.clock.now().timestamp_millis();
    let pin = |uri: &str, ts: i64| {
        json!({
            "msgtype": "m.location", "body": "Location", "geo_uri": uri,
            "org.matrix.msc3488.location": { "uri": uri, "description": "" },
            "org.matrix.msc3488.asset": { "type": "m.self" },
            "org.matrix.msc3488.ts": ts,
        })
    };
    // Vic's phone sends one taken an hour before the session; Wes, who is not out on Ward 7,
    // pins where he is; then Vic pins where he is now. Only the last counts.
    let an_hour_ago = now_ms - 3_600_000;
    send_raw(&vic, &team.room_id, pin("geo:52,-1;u=5", an_hour_ago)).await;
    send_raw(&wes, &team.room_id, pin("geo:53,-1;u=5", now_ms)).await;
    send_raw(
        &vic,
        &team.room_id,
        pin("geo:51.45450,-2.58790;u=40", now_ms),
    )
    .await;
    for device in [&asha, &office] {
        wait_until("Vic's pin is kept", LONG, || async {
            last(device).is_some_and(|l| l.coordinates == "51.45450, -2.58790")
        })
        .await;
    }
    let kept = last(&asha).unwrap();
    let rows: i64 = asha
        .database
        .reader()
        .query_row("SELECT count(*) FROM session_location", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1, "neither the old pin nor Wes's was kept");
    assert_eq!(kept.accuracy_m, Some(40));
    assert_eq!(kept.sender, vic_id);
    assert!(!kept.live);

    // Then live location: the unstable beacon_info, and a beacon under the stable name.
    let info = room
        .send_state_event_raw(
            "org.matrix.msc3672.beacon_info",
            &vic_id,
            json!({
                "description": "", "live": true, "timeout": 3_600_000,
                "org.matrix.msc3488.ts": now_ms, "org.matrix.msc3488.asset": { "type": "m.self" },
            }),
        )
        .await
        .expect("beacon_info");
    room.send_raw(
        "m.beacon",
        json!({
            "m.relates_to": { "rel_type": "m.reference", "event_id": info.event_id },
            "m.location": { "uri": "geo:51.45600,-2.58500;u=12" },
            "m.ts": now_ms + 1_000,
        }),
    )
    .await
    .expect("beacon");
    for device in [&asha, &office] {
        wait_until("Vic's live location is kept", LONG, || async {
            last(device).is_some_and(|l| l.live && l.coordinates == "51.45600, -2.58500")
        })
        .await;
        let id = device.session(WARD).unwrap();
        let page = campaign_safe_lib::checkins::views::detail(
            &device.database.reader(),
            id,
            device.clock.now(),
        )
        .unwrap();
        assert_eq!(
            page.sharing
                .iter()
                .map(|s| s.user_id.as_str())
                .collect::<Vec<_>>(),
            [vic_id.as_str()],
            "Vic shows as sharing now"
        );
    }
    // The unstable beacon under its own name is read too.
    room.send_raw(
        "org.matrix.msc3672.beacon",
        json!({
            "m.relates_to": { "rel_type": "m.reference", "event_id": info.event_id },
            "org.matrix.msc3488.location": { "uri": "geo:51.45700,-2.58400;u=9" },
            "org.matrix.msc3488.ts": now_ms + 2_000,
        }),
    )
    .await
    .expect("unstable beacon");
    wait_until("Vic's newest live location is kept", LONG, || async {
        last(&office).is_some_and(|l| l.coordinates == "51.45700, -2.58400")
    })
    .await;

    // A check-in is missed: the office's alarm and the room's post say where Vic last was.
    for device in [&asha, &office] {
        device.advance_minutes(16);
    }
    wait_until("the office's missed alarm says where", LONG, || async {
        office.hub.state().alarms.iter().any(|alarm| {
            alarm.last_location.is_some()
                && alarm
                    .notice()
                    .body
                    .contains("Last known location: 51.45700, -2.58400 (within 9 m)")
        })
    })
    .await;
    let missed_post = || async {
        posts(&vic, &team.room_id)
            .await
            .iter()
            .filter_map(|post| post["body"].as_str())
            .find(|body| body.contains("MISSED CHECK-IN"))
            .unwrap_or_default()
            .to_owned()
    };
    wait_until("the missed post reaches the room", LONG, || async {
        !missed_post().await.is_empty()
    })
    .await;
    let missed = missed_post().await;
    assert!(
        missed.contains("Last known location: 51.45700, -2.58400 (within 9 m)")
            && missed.contains("https://www.openstreetmap.org/?mlat=51.45700&mlon=-2.58400"),
        "{missed}"
    );
    let missed_posts = posts(&vic, &team.room_id)
        .await
        .iter()
        .filter(|post| {
            post["body"]
                .as_str()
                .is_some_and(|b| b.contains("MISSED CHECK-IN"))
        })
        .count();
    assert_eq!(missed_posts, 1, "one post per missed due time");

    // The server holds the posts encrypted: no coordinates in clear.
    let stored = server.stored_bytes();
    for said in ["51.4545", "51.456", "51.457", "Mill Lane"] {
        assert!(
            !stored.windows(said.len()).any(|w| w == said.as_bytes()),
            "{said} is in the server's database in clear"
        );
    }

    // Ended, the session keeps its locations 7 days; then they go.
    asha.end(WARD);
    wait_until("the office sees Ward 7 end", LONG, || async {
        office.session(WARD).is_none()
    })
    .await;
    let ended_id: i64 = office
        .database
        .reader()
        .query_row(
            "SELECT id FROM checkin_session WHERE title = ?1",
            [WARD],
            |r| r.get(0),
        )
        .unwrap();
    let kept_after = |device: &Device| {
        locations::last_known(&device.database.reader(), ended_id)
            .unwrap()
            .is_some()
    };
    locations::keeper::look(&office.database, office.clock.as_ref());
    assert!(kept_after(&office), "kept right after the end");
    office.advance_minutes(7 * 24 * 60 + 1);
    let sleep = locations::keeper::look(&office.database, office.clock.as_ref());
    assert!(!kept_after(&office), "deleted 7 days after the end");
    assert_eq!(sleep, None, "with nothing kept, nothing wakes");
}

/// A team room another client made (power levels as Element sets them: live location needs
/// 50): once Asha's laptop, an administrator there, has joined it, every member may share
/// live location.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_team_room_made_elsewhere_is_opened_for_live_location() {
    use matrix_sdk::ruma::api::client::room::create_room;
    use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
    use matrix_sdk::ruma::events::{InitialStateEvent, TimelineEventType};
    use matrix_sdk::ruma::serde::Raw;
    use matrix_sdk::ruma::Int;

    super::room_trust::log();
    let server = Synapse::start().await;
    let asha = Device::new("asha", &server).await;
    let vic = volunteer("vic", &server).await;
    let mut request = create_room::v3::Request::new();
    request.preset = Some(create_room::v3::RoomPreset::PrivateChat);
    request.initial_state = vec![InitialStateEvent::with_empty_state_key(
        RoomEncryptionEventContent::with_recommended_defaults(),
    )
    .to_raw_any()];
    request.invite = vec![asha.user_id.as_str().try_into().unwrap()];
    request.power_level_content_override = Some(Raw::from_json(
        serde_json::value::to_raw_value(&json!({ "users": { asha.user_id.clone(): 100 } }))
            .unwrap(),
    ));
    let room = vic.create_room(request).await.expect("Vic's room");
    vic.sync_once(matrix_sdk::config::SyncSettings::default().timeout(Duration::from_millis(200)))
        .await
        .expect("sync");
    let closed =
        |kind: &str, levels: &matrix_sdk::ruma::events::room::power_levels::RoomPowerLevels| {
            levels.events.get(&TimelineEventType::from(kind)) != Some(&Int::from(0u8))
        };
    assert!(closed("m.beacon_info", &room.power_levels().await.unwrap()));
    asha.join_when_invited(room.room_id().as_str(), "Vic's room")
        .await;
    wait_until(
        "the room lets every member share live location",
        LONG,
        || async {
            vic.sync_once(
                matrix_sdk::config::SyncSettings::default().timeout(Duration::from_millis(200)),
            )
            .await
            .expect("sync");
            let levels = room.power_levels().await.unwrap();
            !closed("m.beacon_info", &levels) && !closed("org.matrix.msc3672.beacon_info", &levels)
        },
    )
    .await;
    // Everything else in the room's settings is as Vic left it.
    let levels = room.power_levels().await.unwrap();
    assert_eq!(levels.users.len(), 1);
    assert_eq!(levels.state_default, Int::from(50u8));
}
