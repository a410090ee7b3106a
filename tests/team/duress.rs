//! Duress through a real Synapse (issue 26, section 2): Asha sets the team's duress word on
//! her laptop and the office's laptop learns it, hidden; Vic, out on Ward 8, checks in from
//! his phone with "ok pineapple". The room shows the normal confirmation and nothing else;
//! both laptops raise the silent alarm; Synapse's database holds only ciphertext. Then Asha
//! unlocks with her duress PIN: the office's laptop raises the alarm, hers shows nothing.

use std::time::Duration;

use serde_json::json;

use campaign_safe_lib::alarms::AlarmKind;
use campaign_safe_lib::relay::duress;
use campaign_safe_lib::time::Clock;

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer::{join_as_volunteer, posts, send_raw, volunteer};

const LONG: Duration = Duration::from_secs(60);
const WARD: &str = "Ward 8";

fn duress_alarm(device: &Device) -> Option<String> {
    device
        .hub
        .state()
        .alarms
        .iter()
        .find(|alarm| alarm.kind == AlarmKind::Duress)
        .map(|alarm| alarm.body.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_in_with_the_duress_word_looks_normal_and_raises_the_silent_alarm() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let asha = Device::new("asha", &server).await;
    let office = Device::new("office", &server).await;
    let team = asha
        .team
        .create_team("Ward 8 team")
        .await
        .expect("create team");
    let vic = volunteer("vic", &server).await;
    let vic_id = vic.user_id().unwrap().to_string();
    for member in [&office.user_id, &vic_id] {
        asha.team
            .invite(&team.room_id, member)
            .await
            .expect("invite");
    }
    office.join_when_invited(&team.link, "Ward 8").await;
    join_as_volunteer(&vic, &team.room_id).await;
    // Asha's laptop must know who joined before it posts, or it encrypts for the members of
    // before: the office's app announces itself after joining, and Vic's join is an event.
    wait_until(
        "Asha's laptop knows the office and Vic joined",
        LONG,
        || async { asha.knows_app_of(&office.user_id) && asha.events_seen_from(&vic_id) > 0 },
    )
    .await;

    // Asha sets the word; a word the app does not allow is refused by its field.
    let refused = asha.team.set_duress_word(&team.room_id, "ok").unwrap_err();
    assert!(refused.to_string().starts_with("Duress word:"), "{refused}");
    asha.team
        .set_duress_word(&team.room_id, "Pineapple")
        .expect("duress word");
    wait_until("the office's laptop learns the word", LONG, || async {
        duress::word_of(&office.database.reader(), &team.room_id)
            .unwrap()
            .word
            .as_deref()
            == Some("pineapple")
    })
    .await;

    // Ward 8 is out with Vic on it; he checks in from his phone with the word.
    let session = asha.start(WARD, &["Asha", "Vic"], "Quarry Lane", "", 5);
    asha.share(session, &team.room_id, std::slice::from_ref(&vic_id));
    wait_until("the office tracks Ward 8", LONG, || async {
        office.session(WARD).is_some()
    })
    .await;
    let due_before = asha.next_due(WARD);
    asha.advance_minutes(3);
    office.advance_minutes(3);
    send_raw(
        &vic,
        &team.room_id,
        json!({ "msgtype": "m.text", "body": "ok pineapple" }),
    )
    .await;
    for device in [&asha, &office] {
        wait_until("the silent alarm is raised", LONG, || async {
            duress_alarm(device).is_some_and(|body| {
                body.contains("vic checked in from chat with the team's duress word")
            })
        })
        .await;
    }
    assert!(asha.next_due(WARD) > due_before, "the check-in counted");

    // The room: Asha's laptop confirms as for any check-in, and no visible post says more.
    let visible = || async {
        posts(&vic, &team.room_id)
            .await
            .iter()
            .filter_map(|post| post["body"].as_str().map(str::to_owned))
            .collect::<Vec<String>>()
    };
    wait_until("the confirmation reaches the room", LONG, || async {
        visible()
            .await
            .iter()
            .any(|b| b.contains("vic checked in (from chat)"))
    })
    .await;
    let bodies = visible().await;
    for body in bodies.iter().filter(|body| *body != "ok pineapple") {
        let lower = body.to_lowercase();
        assert!(
            !lower.contains("duress") && !lower.contains("silent") && !lower.contains("pineapple"),
            "a visible post gives it away: {body}"
        );
    }
    let stored = server.stored_bytes();
    for said in ["pineapple", "duress_word\":"] {
        assert!(
            !stored.windows(said.len()).any(|w| w == said.as_bytes()),
            "{said} is in Synapse's database in clear"
        );
    }

    // The office deals with it: Asha's alarm goes too, and nothing is posted for it.
    let office_session = office.session(WARD).unwrap();
    campaign_safe_lib::checkins::acknowledge_duress(
        &mut office.database.conn(),
        office_session,
        office.clock.now(),
        &campaign_safe_lib::checkins::Actor::here(),
        &campaign_safe_lib::relay::outbox::TeamPosts,
    )
    .unwrap();
    office
        .changes
        .announce(campaign_safe_lib::changes::Changed::Sessions);
    wait_until("Asha's silent alarm is dealt with", LONG, || async {
        duress_alarm(&asha).is_none()
    })
    .await;

    // Asha unlocks her laptop with the duress PIN: the office's laptop raises the alarm.
    duress::signal_pin(&mut asha.database.conn(), asha.clock.now()).unwrap();
    asha.changes
        .announce(campaign_safe_lib::changes::Changed::Sessions);
    wait_until(
        "the office's laptop raises the duress PIN's alarm",
        LONG,
        || async {
            duress_alarm(&office).is_some_and(|body| body.contains("asha entered their duress PIN"))
        },
    )
    .await;
    assert_eq!(
        duress_alarm(&asha),
        None,
        "nothing shows where the PIN was typed"
    );
    let after = visible().await;
    assert_eq!(
        after.len(),
        bodies.len(),
        "no visible post for the PIN: {after:?}"
    );
}
