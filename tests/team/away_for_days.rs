//! A device that was away for days (issue 27, section 3), through a real Synapse: the
//! office's laptop is closed while three days pass on the team's clocks and the room fills
//! with events; a canvass it tracked ended meanwhile, and another is still out and was
//! checked in. Opened again, it catches up, shows the canvass still out, and raises no
//! stale alarm on the way: nothing missed is recorded, shown or posted.
//!
//! `AWAY_EVENTS` sets how many events the room collects (500 here; the figure is
//! 5,000: `AWAY_EVENTS=5000 cargo test --test team away_for_days -- --nocapture`).

use std::time::{Duration, Instant};

use serde_json::json;

use super::room_trust::{log, team_of};
use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer;

const LONG: Duration = Duration::from_secs(60);
const THREE_DAYS: i64 = 3 * 24 * 60;

fn missed_anywhere(device: &Device) -> i64 {
    device
        .database
        .reader()
        .query_row(
            "SELECT (SELECT count(*) FROM checkin_event WHERE kind IN ('missed', 'missed_alert_repeated'))
                  + (SELECT count(*) FROM team_outbox WHERE kind = 'missed')",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_away_for_days_catches_up_and_raises_no_stale_alarm() {
    log();
    let events: usize = std::env::var("AWAY_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let server = Synapse::start().await;
    let a = Device::new("asha", &server).await;
    let b = Device::new("office", &server).await;
    let vic = volunteer::volunteer("vic", &server).await;
    let room = team_of(&[&a, &b], &[&vic]).await;
    let ended = a.start("Ward 1", &["Priya Shah"], "", "", 5);
    a.share(ended, &room, &[]);
    let out = a.start("Ward 2", &["Tomasz Nowak"], "", "", 5);
    a.share(out, &room, &[]);
    wait_until("the office tracks both canvasses", LONG, || async {
        b.session("Ward 1").is_some() && b.session("Ward 2").is_some()
    })
    .await;

    // The office's laptop is closed. Three days pass for the team: Ward 1 ends, Ward 2 goes
    // on (checked in just now), and the room fills up.
    b.team.stop().await;
    a.end("Ward 1");
    volunteer::send_many(&vic, &room, events).await;
    a.advance_minutes(THREE_DAYS);
    a.check_in("Ward 2");
    let due = a.next_due("Ward 2");
    wait_until("Asha's posts go out", LONG, || async {
        a.outbox_waiting() == 0
    })
    .await;

    // Opened again three days on: as at any start, the rooms are to be read first (the app
    // says so as it starts, before its scheduler first looks), and its clock has jumped.
    b.team.reading_starts();
    b.advance_minutes(THREE_DAYS);
    let opened = Instant::now();
    b.team.restore().await;
    wait_until(
        &format!("the office catches up on {events} events"),
        LONG,
        || async {
            b.events_seen_from(vic.user_id().unwrap().as_str()) >= events as i64
                && b.session("Ward 1").is_none()
                && b.next_due("Ward 2") == due
        },
    )
    .await;
    let caught_up = opened.elapsed();
    println!("away for three days: {events} events caught up in {caught_up:?}");
    assert!(caught_up <= Duration::from_secs(30), "{caught_up:?}");
    assert_eq!(b.session("Ward 2").is_some(), true, "Ward 2 is still out");
    assert!(b.alarm_kinds().is_empty(), "{:?}", b.alarm_kinds());
    assert_eq!(
        missed_anywhere(&b),
        0,
        "a stale alarm was raised on the way"
    );
    // Nothing missed went to the room from the office either.
    let posts = volunteer::posts(&vic, &room).await;
    assert!(
        !posts
            .iter()
            .any(|post| post["body"].as_str().is_some_and(|b| b.contains("MISSED"))),
        "{:?}",
        json!(posts.len())
    );
}
