//! The team as witness of a device's incident record (issue 24, section 4), through a real
//! Synapse: the office's head reaches Vic's laptop, and a history the office rewrites and
//! signs again with its own key after that is reported by "Check the record"; an honest
//! record, however much is added, is not.

use std::time::Duration;

use serde_json::json;

use campaign_safe_lib::changes::Changed;
use campaign_safe_lib::incidents::model::IncidentInput;
use campaign_safe_lib::relay::witness::{rewritten_record, rewritten_record_with};
use campaign_safe_lib::time::Clock;

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};

const LONG: Duration = Duration::from_secs(60);

fn incident(what: &str) -> IncidentInput {
    serde_json::from_value(json!({
        "occurredFrom": "2026-11-25T11:00:00Z", "category": "phone-call", "whatHappened": what
    }))
    .unwrap()
}

fn heads_seen(device: &Device, of: &Device) -> i64 {
    let signer = campaign_safe_lib::incidents::head::own_signer(&of.database.reader())
        .unwrap()
        .unwrap_or_default();
    device
        .database
        .reader()
        .query_row(
            "SELECT count(*) FROM record_head_seen WHERE signer = ?1",
            [signer],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_team_witnesses_a_record_and_a_history_rewritten_after_is_reported() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let office = Device::new("asha", &server).await;
    let vic = Device::new("vic", &server).await;
    let team = office
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    office
        .team
        .invite(&team.room_id, &vic.user_id)
        .await
        .expect("invite");
    vic.join_when_invited(&team.link, "Ward 3").await;
    // The office must know Vic has joined before it posts, or it encrypts for the members of
    // before (a post Vic could never read): his app's announcement comes after his join.
    wait_until("the office has heard from Vic's laptop", LONG, || async {
        office.knows_app_of(&vic.user_id)
    })
    .await;

    // The office records an incident: its head goes to the team, and Vic's laptop keeps it.
    let id = campaign_safe_lib::incidents::record(
        &mut office.database.conn(),
        &incident("Abusive call about the leaflets"),
        office.clock.now(),
    )
    .expect("recorded");
    office.changes.announce(Changed::Record);
    wait_until("Vic's laptop has seen the office's head", LONG, || async {
        heads_seen(&vic, &office) > 0
    })
    .await;
    wait_until(
        "the office has its own head back from the room",
        LONG,
        || async { heads_seen(&office, &office) > 0 },
    )
    .await;
    // An honest record, with more added since, still gives every head seen.
    campaign_safe_lib::incidents::amend(
        &mut office.database.conn(),
        &id,
        &incident("Abusive call about the leaflets, and a threat"),
        "Remembered more",
        office.clock.now(),
    )
    .expect("amended");
    office.changes.announce(Changed::Record);
    assert!(rewritten_record(&office.database.reader())
        .unwrap()
        .is_empty());

    // Someone holding the record's key rewrites the first version (and fixes the chain up).
    office
        .database
        .conn()
        .execute(
            "UPDATE incident_version SET hash = ?1 WHERE version = 1",
            ["0".repeat(64)],
        )
        .unwrap();
    let found = rewritten_record(&office.database.reader()).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("your team “Ward 3 team”"), "{}", found[0]);

    // They also delete the heads this device kept: the team room still holds them, and
    // "Check the record" reads them back from the server.
    office
        .database
        .conn()
        .execute("DELETE FROM record_head_seen", [])
        .unwrap();
    assert!(rewritten_record(&office.database.reader())
        .unwrap()
        .is_empty());
    let signer = campaign_safe_lib::incidents::head::own_signer(&office.database.reader())
        .unwrap()
        .expect("the record has a device key");
    let from_rooms = office
        .team
        .heads_in_team_rooms(&signer)
        .await
        .expect("the team room is read");
    assert_eq!((from_rooms.rooms_read, from_rooms.rooms), (1, 1));
    assert!(!from_rooms.heads.is_empty());
    let found = rewritten_record_with(&office.database.reader(), &from_rooms.heads).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("your team “Ward 3 team” (its room, read from the server)"),
        "{}",
        found[0]
    );
    // Vic's account posted no head of the office's record: his rooms give none of it.
    let none = vic.team.heads_in_team_rooms(&signer).await.unwrap();
    assert!(none.heads.is_empty());
}
