//! Issue 24, scenario (c): comparing numbers (SAS) through a real Synapse, the test driving
//! both sides. A laptop signed in to an Element X account confirms itself with the account's
//! phone; then it verifies a teammate with one of his sessions; a comparison whose numbers
//! do not match confirms nothing; a stranger's request is not heard.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use matrix_sdk::encryption::verification::{SasState, SasVerification, VerificationRequestState};
use matrix_sdk::ruma::events::key::verification::cancel::CancelCode;
use matrix_sdk::ruma::events::key::verification::VerificationMethod;
use matrix_sdk::ruma::UserId;

use campaign_safe_lib::changes::{Changed, Listener};
use campaign_safe_lib::relay::matrix::{Comparison, ComparisonStage};

use super::synapse::Synapse;
use super::team_device::{wait_until, Device};
use super::volunteer::{self, Verifier};

const LONG: Duration = Duration::from_secs(60);

/// The requests to compare numbers the device announced (the desktop is told of each).
#[derive(Default)]
struct Asked(Mutex<Vec<Option<String>>>);

impl Listener for Asked {
    fn heard(&self, what: &Changed) {
        if let Changed::ComparisonAsked { teammate } = what {
            self.0.lock().unwrap().push(teammate.clone());
        }
    }
}

async fn comparison(device: &Device) -> Option<Comparison> {
    device.team.status().await.ok()?.comparison
}

async fn stage(device: &Device) -> Option<ComparisonStage> {
    comparison(device).await.map(|c| c.stage)
}

/// Both sides show numbers: the same three, and the same seven pictures.
async fn numbers_match(device: &Device, sas: &SasVerification, what: &str) {
    wait_until(what, LONG, || async {
        sas.decimals().is_some() && stage(device).await == Some(ComparisonStage::Compare)
    })
    .await;
    let shown = comparison(device).await.expect("a comparison on screen");
    let (a, b, c) = sas.decimals().unwrap();
    assert_eq!(shown.numbers, Some([a, b, c]), "{what}");
    let pictures: Vec<&str> = sas
        .emoji()
        .expect("pictures offered")
        .iter()
        .map(|e| e.symbol)
        .collect();
    let shown_pictures: Vec<&str> = shown.pictures.iter().map(|p| p.symbol.as_str()).collect();
    assert_eq!(shown_pictures, pictures, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_laptop_confirms_itself_and_verifies_a_teammate_by_comparing_numbers() {
    super::room_trust::log();
    let server = Synapse::start().await;
    let (sam_phone, _) = volunteer::element_x("sam", &server).await;
    let (vic, _) = volunteer::element_x("vic", &server).await;
    let vic_id = vic.user_id().unwrap().to_string();
    let vic_device = vic.device_id().unwrap().to_owned();

    let laptop = Device::signed_in("sam", &server, None).await;
    let heard = Arc::new(Asked::default());
    laptop.changes.listen(heard.clone());
    wait_until("the laptop knows it is not confirmed", LONG, || async {
        laptop
            .team
            .status()
            .await
            .ok()
            .and_then(|s| s.device_confirmed)
            == Some(false)
    })
    .await;
    let team = laptop
        .team
        .create_team("Ward 3 team")
        .await
        .expect("create team");
    laptop
        .team
        .invite(&team.room_id, &vic_id)
        .await
        .expect("invite");
    volunteer::join_as_volunteer(&vic, &team.room_id).await;
    let phone = Verifier::new(&sam_phone);
    let vic = Verifier::new(&vic);

    // Nothing to answer before anything was asked.
    for error in [
        laptop.team.answer_comparison(true).await.unwrap_err(),
        laptop.team.accept_comparison().await.unwrap_err(),
    ] {
        assert!(
            error.to_string().starts_with("Compare numbers: "),
            "{error}"
        );
    }

    // (c) The laptop asks Sam's other sessions; the phone answers and both show numbers.
    let asked = laptop
        .team
        .start_comparison(None, None)
        .await
        .expect("the laptop asks to compare numbers");
    let shown = asked.comparison.expect("the comparison is on screen");
    assert!(shown.own_session && shown.we_asked, "{shown:?}");
    assert_eq!(shown.stage, ComparisonStage::Waiting);
    let second = laptop.team.start_comparison(None, None).await.unwrap_err();
    assert!(
        second.to_string().starts_with("Compare numbers: "),
        "one at a time: {second}"
    );
    let request = phone
        .next_request("the phone hears the laptop's request")
        .await;
    assert!(request.is_self_verification());
    request
        .accept_with_methods(vec![VerificationMethod::SasV1])
        .await
        .expect("the phone accepts");
    let phone_sas = Verifier::sas(&request, "the laptop starts the comparison").await;
    numbers_match(
        &laptop,
        &phone_sas,
        "the phone and the laptop show the same numbers",
    )
    .await;
    assert_eq!(
        comparison(&laptop).await.unwrap().session.as_deref(),
        Some("sam's phone"),
        "the other session is named as its owner named it"
    );

    // Both say they match: the phone signs the laptop, which is then confirmed.
    let status = laptop.team.answer_comparison(true).await.expect("matched");
    assert_eq!(
        status.comparison.map(|c| c.stage),
        Some(ComparisonStage::Confirmed),
        "waiting for the phone to say so too"
    );
    phone_sas.confirm().await.expect("the phone confirms");
    wait_until("the laptop is confirmed by the phone", LONG, || async {
        laptop
            .team
            .status()
            .await
            .ok()
            .and_then(|s| s.device_confirmed)
            == Some(true)
    })
    .await;
    assert_eq!(stage(&laptop).await, Some(ComparisonStage::Done));
    let laptop_id = laptop.device_id();
    let sam = <&UserId>::try_from(laptop.user_id.as_str()).unwrap();
    wait_until("the phone sees the laptop confirmed", LONG, || async {
        matches!(
            sam_phone.encryption().get_device(sam, &laptop_id).await,
            Ok(Some(device)) if device.is_cross_signed_by_owner()
        )
    })
    .await;
    laptop.team.stop_comparison().await.expect("closed");
    assert!(comparison(&laptop).await.is_none());

    // Refused by field: a stranger, oneself, no session, a session that does not exist.
    for (user, device, field) in [
        (Some("@nobody:localhost"), Some("ABC"), "Teammate: "),
        (Some("not an id"), None, "Teammate: "),
        (Some(laptop.user_id.as_str()), None, "Teammate: "),
        (Some(vic_id.as_str()), None, "Session: "),
        (Some(vic_id.as_str()), Some("NOSUCHDEVICE"), "Session: "),
        (
            Some(vic_id.as_str()),
            Some(&*"X".repeat(10_000)),
            "Session: ",
        ),
    ] {
        let error = laptop
            .team
            .start_comparison(user, device)
            .await
            .expect_err("refused");
        assert!(
            error.to_string().starts_with(field),
            "{user:?} {device:?}: {error}"
        );
    }
    assert!(comparison(&laptop).await.is_none());

    // The laptop verifies Vic with his phone.
    wait_until("the laptop knows Vic's phone", LONG, || async {
        laptop
            .team
            .members(&team.room_id)
            .await
            .map(|members| {
                members.iter().any(|m| {
                    m.user_id == vic_id
                        && m.devices.iter().any(|d| d.device_id == vic_device.as_str())
                })
            })
            .unwrap_or(false)
    })
    .await;
    laptop
        .team
        .start_comparison(Some(&vic_id), Some(vic_device.as_str()))
        .await
        .expect("the laptop asks Vic's phone");
    let request = vic.next_request("Vic's phone hears the laptop").await;
    request
        .accept_with_methods(vec![VerificationMethod::SasV1])
        .await
        .expect("Vic accepts");
    let vic_sas = Verifier::sas(&request, "the comparison with Vic starts").await;
    numbers_match(
        &laptop,
        &vic_sas,
        "Vic and the laptop show the same numbers",
    )
    .await;
    assert_eq!(comparison(&laptop).await.unwrap().name, "vic");
    laptop.team.answer_comparison(true).await.expect("matched");
    vic_sas.confirm().await.expect("Vic confirms");
    wait_until("the laptop has verified Vic", LONG, || async {
        laptop
            .team
            .members(&team.room_id)
            .await
            .map(|members| {
                members
                    .iter()
                    .any(|m| m.user_id == vic_id && m.you_verified)
            })
            .unwrap_or(false)
    })
    .await;
    let sam_seen_by_vic = vic.client.encryption().get_user_identity(sam).await;
    assert!(
        matches!(sam_seen_by_vic, Ok(Some(identity)) if identity.is_verified()),
        "Vic has verified Sam too"
    );
    laptop.team.stop_comparison().await.expect("closed");

    // Someone in none of the laptop's teams asks first: not heard (the SDK drops a request
    // from a device it does not track; one it tracks but in no team is turned down here).
    let (stranger, _) = volunteer::element_x("mallory", &server).await;
    let stranger = Verifier::new(&stranger);
    let _ = stranger
        .client
        .encryption()
        .request_user_identity(sam)
        .await;
    stranger
        .client
        .encryption()
        .get_device(sam, &laptop_id)
        .await
        .unwrap()
        .expect("anyone on the server can see the laptop's keys")
        .request_verification_with_methods(vec![VerificationMethod::SasV1])
        .await
        .expect("the stranger asks");

    // Vic asks the laptop; the numbers are said not to match: nothing is confirmed, and the
    // screen says what to do.
    let vic_asks = vic
        .client
        .encryption()
        .get_device(sam, &laptop_id)
        .await
        .unwrap()
        .expect("Vic knows the laptop")
        .request_verification_with_methods(vec![VerificationMethod::SasV1])
        .await
        .expect("Vic asks the laptop");
    wait_until("the laptop shows Vic's request", LONG, || async {
        let announced = heard.0.lock().unwrap().contains(&Some("vic".to_owned()));
        announced
            && comparison(&laptop)
                .await
                .is_some_and(|c| c.stage == ComparisonStage::Asked && !c.own_session)
    })
    .await;
    assert_eq!(
        comparison(&laptop).await.map(|c| c.name),
        Some("vic".to_owned()),
        "Vic's request is the one shown, not the stranger's"
    );
    laptop.team.accept_comparison().await.expect("accepted");
    wait_until("Vic's request is ready", LONG, || async {
        matches!(vic_asks.state(), VerificationRequestState::Ready { .. })
    })
    .await;
    let vic_sas = vic_asks
        .start_sas()
        .await
        .expect("Vic starts")
        .expect("a comparison of numbers");
    numbers_match(&laptop, &vic_sas, "Vic's comparison shows numbers").await;
    laptop
        .team
        .answer_comparison(false)
        .await
        .expect("they do not match");
    let ended = comparison(&laptop)
        .await
        .expect("the outcome stays on screen");
    assert_eq!(ended.stage, ComparisonStage::Ended);
    assert!(
        ended
            .ended
            .as_deref()
            .unwrap_or_default()
            .contains("did not match"),
        "{ended:?}"
    );
    wait_until("Vic's side hears that they did not match", LONG, || async {
        matches!(vic_sas.state(), SasState::Cancelled(info) if *info.cancel_code() == CancelCode::MismatchedSas)
    })
    .await;
    let error = laptop.team.answer_comparison(true).await.unwrap_err();
    assert!(
        error.to_string().starts_with("Compare numbers: "),
        "{error}"
    );
    laptop.team.stop_comparison().await.expect("closed");
    assert!(comparison(&laptop).await.is_none());
    assert_eq!(
        *heard.0.lock().unwrap(),
        [Some("vic".to_owned())],
        "only Vic's request reached the desktop: the laptop's own requests and the stranger's did not"
    );
}
