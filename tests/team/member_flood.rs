//! A member who floods the team room with member events (their name changed hundreds of
//! times, to huge, reversed, impersonating and malformed names) through a real Synapse. The
//! check-ins and alarms of everyone else go on, the device asks for the member list a few
//! times at most instead of once per event, and no name reaches the Team screen uncleaned.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use matrix_sdk::ruma::RoomId;
use serde_json::{json, Value};

use campaign_safe_lib::alarms::AlarmKind;

use super::holding_proxy::HoldingProxy;
use super::room_trust::{forged, log, started, team_of};
use super::synapse::Synapse;
use super::team_device::{wait_until, wait_until_seen, Device};
use super::volunteer;
use super::SHORT;

const WARD: &str = "Ward 3";
/// Member events in the flood.
const FLOOD: usize = 300;

/// The names Mallory cycles through, at their extremes. (Synapse refuses a name over 256
/// characters from its own users, and fails on a number, which the Matrix SDK then sends again
/// and again; it passes on a list or an object.)
fn hostile_member_content(i: usize) -> Value {
    let displayname = match i % 10 {
        0 => json!("x\u{0301}".repeat(128)),
        1 => json!("\u{202E}ahsA Patel"),
        2 => json!("Asha Patel"),
        3 => json!(" \u{1b}[31m\nBo\u{0} Office\u{7} "),
        4 => json!(""),
        5 => json!("\u{2066}\u{200F}\u{2069}"),
        6 => Value::Null,
        7 => json!(["Asha", "Patel"]),
        8 => json!({"name": "Asha"}),
        _ => json!(format!("Mallory {i}")),
    };
    json!({"membership": "join", "displayname": displayname})
}

/// Sends the flood, ten at a time, counting in `taken` the events the server took. (It may
/// refuse some of the malformed ones; the rest are what the devices must cope with.)
async fn flood(mallory: &matrix_sdk::Client, room: &str, taken: &AtomicUsize) {
    let user = mallory.user_id().expect("signed in").to_string();
    let room = mallory
        .get_room(<&RoomId>::try_from(room).expect("room id"))
        .expect("Mallory's room");
    for chunk in (0..FLOOD).collect::<Vec<_>>().chunks(10) {
        let sends: Vec<_> = chunk
            .iter()
            .map(|i| {
                let (room, user, content) =
                    (room.clone(), user.clone(), hostile_member_content(*i));
                tokio::spawn(async move {
                    let send = room.send_state_event_raw("m.room.member", &user, content);
                    matches!(
                        tokio::time::timeout(Duration::from_secs(30), send).await,
                        Ok(Ok(_))
                    )
                })
            })
            .collect();
        for send in sends {
            if send.await.unwrap_or(false) {
                taken.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_who_floods_member_events_holds_up_no_check_in_and_no_alarm() {
    log();
    let server = Synapse::start().await;
    let proxy = HoldingProxy::start(&server.url()).await;
    // Asha's device talks to the server only through the proxy, which counts her device's
    // requests for the full member list.
    let asha = Device::new("asha", &Synapse::running_at(proxy.port, &server.token)).await;
    let office = Device::new("office", &server).await;
    let mallory = volunteer::volunteer("mallory", &server).await;
    let mallory_id = mallory.user_id().expect("signed in").to_string();
    let room = team_of(&[&asha, &office], &[&mallory]).await;
    let ward = asha.start(WARD, &["Priya Shah", "Tomasz Nowak"], "", "", 5);
    asha.share(ward, &room, &[]);
    wait_until("the office tracks the canvass", SHORT, || async {
        office.session(WARD).is_some()
    })
    .await;
    // The session's id, for a forgery later (read now: once her own member event cannot be
    // read, her own client cannot read the room's history).
    let session = started(&mallory, &room).await["session"].clone();
    // The Team screen is opened once, so the full list is in hand before the flood.
    asha.team.members(&room).await.expect("members");
    let lists_before = proxy.member_lists_asked();

    let taken = Arc::new(AtomicUsize::new(0));
    let flooding = {
        let (mallory, room, taken) = (mallory.clone(), room.clone(), taken.clone());
        tokio::spawn(async move { flood(&mallory, &room, &taken).await })
    };
    let flood_began = Instant::now();
    wait_until(
        "a third of the flood is in",
        Duration::from_secs(120),
        || async { taken.load(Ordering::SeqCst) >= FLOOD / 3 },
    )
    .await;

    // While the flood runs: Asha checks in and the office sees it; then a check-in is
    // missed, and both devices raise the alarm.
    asha.check_in(WARD);
    let due = asha.next_due(WARD);
    wait_until(
        "the office sees Asha's check-in during the flood",
        SHORT,
        || async { office.next_due(WARD) == due },
    )
    .await;
    let crossed = taken.load(Ordering::SeqCst);
    for device in [&asha, &office] {
        device.advance_minutes(16);
    }
    for device in [&asha, &office] {
        wait_until(
            "the missed check-in alarms during the flood",
            SHORT,
            || async { device.alarm_kinds().contains(&AlarmKind::Missed) },
        )
        .await;
    }
    let alarmed = taken.load(Ordering::SeqCst);
    flooding.await.expect("the flood ran");
    let taken = taken.load(Ordering::SeqCst);
    println!(
        "the server took {taken} of {FLOOD} member events in {:?}; the check-in crossed by event {crossed}, the alarms by {alarmed}",
        flood_began.elapsed()
    );
    assert!(taken >= FLOOD / 2, "the flood was mostly refused: {taken}");

    // Her last event names her with an object, which the Matrix SDK cannot read: still
    // every device lists the whole team, her by her user id, and every name is cleaned and cut.
    let mallory_room = mallory
        .get_room(<&RoomId>::try_from(room.as_str()).expect("room id"))
        .expect("Mallory's room");
    mallory_room
        .send_state_event_raw(
            "m.room.member",
            &mallory_id,
            json!({"membership": "join", "displayname": {"name": "Asha Patel"}}),
        )
        .await
        .expect("the server takes a name that is an object");
    for device in [&asha, &office] {
        wait_until_seen(
            "the Team screen lists Mallory by her user id",
            SHORT,
            || async {
                let members = device
                    .team
                    .members(&room)
                    .await
                    .map_err(|e| e.to_string())?;
                let names: Vec<_> = members.iter().map(|m| (&m.user_id, &m.name)).collect();
                let listed = members.iter().filter(|m| m.user_id == mallory_id).count();
                if members.len() == 3
                    && listed == 1
                    && names.contains(&(&mallory_id, &"mallory".to_owned()))
                {
                    Ok(())
                } else {
                    Err(format!("{names:?}"))
                }
            },
        )
        .await;
        for member in device.team.members(&room).await.expect("members") {
            assert!(
                member.name.chars().count() <= 64
                    && !member.name.is_empty()
                    && !member
                        .name
                        .chars()
                        .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)),
                "a name not cleaned: {:?}",
                member.name
            );
        }
    }

    // Now she names herself with nothing but marks that turn text around; a change she then
    // forges is ignored, and the session's page still names her as its sender.
    mallory_room
        .send_state_event_raw(
            "m.room.member",
            &mallory_id,
            json!({"membership": "join", "displayname": "\u{202E}\u{2066}\u{200F}"}),
        )
        .await
        .expect("the server takes a name of direction marks");
    let forgery = json!({"v": 1, "event": "ended", "session": session,
        "at": chrono::Utc::now().timestamp_millis(), "by": "Asha Patel", "how": "app"});
    volunteer::send_raw(&mallory, &room, forged(forgery)).await;
    for device in [&asha, &office] {
        wait_until_seen("the ignored change names Mallory", SHORT, || async {
            let ignored = device.ignored(WARD);
            if ignored
                .iter()
                .any(|t| t.starts_with("A change from mallory "))
            {
                Ok(())
            } else {
                Err(format!("{ignored:?}"))
            }
        })
        .await;
        assert!(
            device.session(WARD).is_some(),
            "the forged end ended nothing"
        );
    }

    // Posts still go out and are read: the team's keys reach everyone after it all.
    asha.check_in(WARD);
    let due = asha.next_due(WARD);
    wait_until(
        "the office sees Asha's check-in after the flood",
        SHORT,
        || async { office.next_due(WARD) == due },
    )
    .await;

    // The flood asked for the member list a few times at most, not once per event.
    let lists = proxy.member_lists_asked() - lists_before;
    println!("member lists asked for during and after the flood: {lists}");
    assert!(lists <= 3, "{lists} member lists for {taken} member events");
}
