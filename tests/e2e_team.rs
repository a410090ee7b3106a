//! End-to-end: the Team screen in the real window against a real Synapse. Sign in (register
//! with a token), create a team, invite a volunteer, share a canvass, and see it missed after
//! a restart, posted to the room. Screenshots: target/e2e/team-*.png.

#![allow(clippy::await_holding_lock)]

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;
#[allow(dead_code)]
#[path = "support/synapse.rs"]
mod synapse;
#[allow(dead_code)]
#[path = "support/team_device.rs"]
mod team_device;
#[allow(dead_code)]
#[path = "support/volunteer.rs"]
mod volunteer;

use std::time::{Duration, Instant};

use support::notification_server::NotificationServer;
use support::{serial, App, Desktop, Driver};
use synapse::Synapse;

/// A bound, not a pause, for what comes through the team server on a loaded machine.
const RELAY: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_create_a_team_share_a_session_and_see_it_missed() {
    let _one = serial();
    let server = Synapse::start().await;
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let notices = NotificationServer::start(&desktop.bus, true);
    let vic = volunteer::volunteer("vic", &server).await;
    let noor = volunteer::volunteer_without_cross_signing("noor", &server).await;

    let (room_id, recovery_key) = {
        let driver = &Driver::start(&desktop, data.path());
        let app = App::launch(driver).await;
        app.go("#/team").await;
        app.wait_for_text("main h1", "Team").await;
        app.wait_for_text(".team-connection", "Not signed in").await;
        app.screenshots("team-setup-signed-out").await;

        // A wrong address is refused next to its field.
        app.click("#f-user").await;
        app.type_in("#f-user", "asha").await;
        app.type_in("#f-password", "asha-password").await;
        app.click(".team-form button[type='submit']").await;
        app.wait_for_text("#error-homeserver", "Team server:").await;

        app.type_in("#f-homeserver", &server.url()).await;
        app.click("#f-register").await;
        app.type_in("#f-registrationToken", &server.token).await;
        app.type_in("#f-deviceName", "Ward office laptop").await;
        app.click(".team-form button[type='submit']").await;
        // An account made here: its recovery key, shown once in place of the form.
        app.wait_for_text(".recovery-key h2", "Write down your recovery key")
            .await;
        app.wait_for_text(".team-status", "This device is confirmed by its owner")
            .await;
        assert_eq!(app.active_element_id().await, "recovery-key-title");
        let recovery_key = app.text(".recovery-key-text").await;
        assert!(recovery_key.split(' ').count() >= 12, "{recovery_key}");
        app.screenshots("team-recovery-key").await;
        app.screenshots_of("team-recovery-key-card", Some(".recovery-key"))
            .await;
        app.click("#f-keepRecoveryKey").await;
        app.click("#recovery-key-done").await;
        app.wait_until_gone("recovery-key-title", "the recovery key card")
            .await;
        app.wait_for_text(".team-status", "Signed in as @asha:localhost")
            .await;
        assert!(
            !app.js("return document.body.innerText")
                .await
                .as_str()
                .unwrap()
                .contains(&recovery_key),
            "the recovery key stays on screen"
        );
        app.wait_for_text(".team-connection", "Connected").await;

        app.type_in("#f-create-name", "Ward 3 team").await;
        app.click("form[aria-labelledby='create-team-title'] button[type='submit']")
            .await;
        app.wait_for_text(".team-card .card-title", "Ward 3 team")
            .await;
        app.wait_for(".team-card svg.qr rect").await;
        let link = app.text(".team-card .invite-link").await;
        assert!(link.starts_with("https://matrix.to/#/!"), "{link}");
        let room_id = app
            .js("return document.querySelector('.team-card').dataset.roomId")
            .await
            .as_str()
            .unwrap()
            .to_owned();
        let invite_field = app
            .js("return document.querySelector('.team-card input[name=userId]').id")
            .await;
        let invite_field = format!("#{}", invite_field.as_str().unwrap());
        app.type_in(&invite_field, "@vic:localhost").await;
        app.click(".team-card form button[type='submit']").await;
        volunteer::join_as_volunteer(&vic, &room_id).await;
        // Noor's client never set up cross-signing: the app sends her no keys, and says so.
        app.retype(&invite_field, "@noor:localhost").await;
        app.click(".team-card form button[type='submit']").await;
        volunteer::join_as_volunteer(&noor, &room_id).await;
        app.click(".team-card .actions button").await;
        app.wait_for_text(".team-card .members", "@vic:localhost")
            .await;
        // The team sees the name the user gave this device, not the app's name.
        // The labels come from the keys: the app cross-signed its own new account's
        // device; Vic's client cross-signed his, Noor's never set up cross-signing.
        app.wait_for_text(
            ".team-card .members",
            "Ward office laptop (this device): confirmed by its owner",
        )
        .await;
        app.wait_for_text(
            ".team-card .members",
            "Has not set up cross-signing, so confirmed devices (in Element and in Campaign Safe) send them no team messages",
        )
        .await;
        app.wait_for_text(".team-card .members", "You have not verified this person.")
            .await;
        // Who this (confirmed) device's messages leave out, and why, before the full list.
        app.wait_for_text(
            ".team-card .left-out",
            "noor: has not set up cross-signing, so none of their devices gets anything",
        )
        .await;
        app.wait_for_text(".team-status", "This device is confirmed by its owner")
            .await;
        app.screenshots("team-members-trust").await;
        app.screenshots_of("team-member-list", Some(".member-list"))
            .await;
        app.screenshots_of("team-setup", Some(".team-card")).await;

        // Asha verifies Vic with his phone, comparing numbers from the members list.
        let vic_side = volunteer::Verifier::new(&vic);
        app.js("[...document.querySelectorAll('.team-card .members button')].find((b) => b.textContent === 'Verify vic with this session').click()")
            .await;
        let request = vic_side.next_request("Vic's phone hears Asha").await;
        request
            .accept_with_methods(vec![
                matrix_sdk::ruma::events::key::verification::VerificationMethod::SasV1,
            ])
            .await
            .expect("Vic accepts");
        let sas = volunteer::Verifier::sas(&request, "Asha's laptop starts comparing").await;
        app.wait_for_text_within("#compare-title", "Compare the numbers", RELAY)
            .await;
        let (a, b, c) = sas.decimals().expect("Vic's phone shows numbers");
        app.wait_for_text(".sas-numbers", &format!("{a}{b}{c}"))
            .await;
        assert_eq!(app.active_element_id().await, "compare-title");
        app.wait_for_text(".comparison", "Check that vic shows the same three numbers")
            .await;
        app.click("#compare-match").await;
        sas.confirm().await.expect("Vic confirms");
        app.wait_for_text_within("#compare-title", "You have verified vic", RELAY)
            .await;
        app.screenshots("team-trust-teammate-verified").await;
        app.click("#compare-stop").await;
        app.wait_until_gone("compare-title", "the finished comparison did not close")
            .await;
        vic_side.finish().await;
        app.click(".team-card .actions button").await;
        app.wait_for_text(".team-card .members", "You have verified this person.")
            .await;

        // Vic asks the laptop to compare numbers while Asha is on another screen: the
        // desktop is told, and clicking the notice brings her to the Team screen, where she
        // declines.
        app.go("#/checkins").await;
        app.wait_for_text("main h1", "Check-ins").await;
        let asha = <&matrix_sdk::ruma::UserId>::try_from("@asha:localhost").unwrap();
        let laptop = vic
            .encryption()
            .get_user_devices(asha)
            .await
            .expect("Asha's devices")
            .devices()
            .find(|device| device.display_name() == Some("Ward office laptop"))
            .expect("Vic knows Asha's laptop");
        laptop
            .request_verification_with_methods(vec![
                matrix_sdk::ruma::events::key::verification::VerificationMethod::SasV1,
            ])
            .await
            .expect("Vic asks");
        let notice = notices.wait_for("vic asks to compare numbers");
        let deadline = Instant::now() + RELAY;
        // The app hears answers once its notice is up: the click is repeated until it lands.
        loop {
            notices.press(notice.id, "default", || true);
            tokio::time::sleep(Duration::from_millis(300)).await;
            if app.js("return location.hash").await == "#/team" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "clicking the notice never opened the Team screen"
            );
        }
        app.wait_for_text_within("#compare-title", "vic asks to compare numbers", RELAY)
            .await;
        app.wait_for_text(".comparison", "Accept only if you are talking to them now")
            .await;
        app.js("document.querySelector('.comparison').scrollIntoView({ block: 'center' })")
            .await;
        app.screenshots("team-trust-asked").await;
        app.click("#compare-stop").await;
        app.wait_until_gone("compare-title", "the declined request stayed on screen")
            .await;

        // A canvass shared with the team as it starts.
        // Vic is out on it too: he may check in by chat, and his phone's location counts.
        start_shared_canvass(&app, "Priya Shah, Tomasz Nowak", Some("@vic")).await;
        let started = posted(&vic, &room_id, "started").await;
        assert!(
            started.contains("Priya Shah and Tomasz Nowak are out"),
            "{started}"
        );
        app.screenshots("team-session").await;

        // Vic, out on it, pins where he is from his phone, then shares live location: the
        // session page says where, how accurately, how long ago, and that he is sharing now.
        let room = vic
            .get_room(<&matrix_sdk::ruma::RoomId>::try_from(room_id.as_str()).unwrap())
            .unwrap();
        let now_ms = chrono::Utc::now().timestamp_millis();
        volunteer::send_raw(
            &vic,
            &room_id,
            serde_json::json!({
                "msgtype": "m.location", "body": "Location", "geo_uri": "geo:51.45450,-2.58790;u=40",
                "org.matrix.msc3488.location": { "uri": "geo:51.45450,-2.58790;u=40" },
                "org.matrix.msc3488.ts": now_ms,
            }),
        )
        .await;
        let vic_id = vic.user_id().unwrap().to_string();
        let info = room
            .send_state_event_raw(
                "org.matrix.msc3672.beacon_info",
                &vic_id,
                serde_json::json!({ "description": "", "live": true, "timeout": 3 * 3_600_000,
                    "org.matrix.msc3488.ts": now_ms, "org.matrix.msc3488.asset": { "type": "m.self" } }),
            )
            .await
            .expect("beacon_info");
        room.send_raw(
            "org.matrix.msc3672.beacon",
            serde_json::json!({
                "m.relates_to": { "rel_type": "m.reference", "event_id": info.event_id },
                "org.matrix.msc3488.location": { "uri": "geo:51.45600,-2.58500;u=12" },
                "org.matrix.msc3488.ts": now_ms + 1_000,
            }),
        )
        .await
        .expect("beacon");
        app.wait_for_text_within(".last-location .coordinates", "51.45600, -2.58500", RELAY)
            .await;
        app.wait_for_text(".last-location", "(within 12 m)").await;
        app.wait_for_text(".last-location", "Live location from vic")
            .await;
        app.wait_for_text(".sharing-now", "Sharing live location now: vic since")
            .await;
        let geo = app
            .js("return document.querySelector('.last-location a.map-link').getAttribute('href')")
            .await;
        assert_eq!(geo.as_str(), Some("geo:51.45600,-2.58500;u=12"));
        app.screenshots_of("session-sharing-location", Some(".whereabouts"))
            .await;
        let violations = app.axe_violations().await;
        assert!(violations.is_empty(), "{violations:#?}");

        // A welfare check: Asha asks for a check-in now; Vic is mentioned in the room, says
        // "ok" from his phone, and the page shows the answer.
        app.click("button[data-act='ask']").await;
        app.wait_for_text(".welfare-status", "Not answered yet.")
            .await;
        let asked = post(&vic, &room_id, "asked").await;
        assert!(
            asked["body"]
                .as_str()
                .is_some_and(|body| body.contains("to check in now. Reply OK")),
            "{asked}"
        );
        assert_eq!(asked["m.mentions"]["user_ids"][0], vic_id.as_str());
        volunteer::send_raw(
            &vic,
            &room_id,
            serde_json::json!({ "msgtype": "m.text", "body": "ok" }),
        )
        .await;
        app.wait_for_text_within(".welfare-status", "vic checked in from chat", RELAY)
            .await;
        app.screenshots_of("welfare-check-answered", Some(".welfare-check"))
            .await;

        // Asha sets the team's duress word on the Team screen; Vic checks in with it. The
        // room sees a normal check-in; Asha's laptop raises the silent alarm.
        let session_page = app.js("return location.hash").await;
        app.go("#/team").await;
        app.type_in(".duress-word input", "two words").await;
        app.click(".duress-word button[type='submit']").await;
        app.wait_for_text(
            ".duress-word .field-error",
            "Duress word: use one word of letters",
        )
        .await;
        app.js("document.querySelector('.duress-word input').value = ''")
            .await;
        app.type_in(".duress-word input", "Pineapple").await;
        app.click(".duress-word button[type='submit']").await;
        app.wait_for_text(".duress-word-now", "pineapple").await;
        app.screenshots_of("team-duress-word", Some(".duress-word"))
            .await;
        app.go(session_page.as_str().unwrap()).await;
        app.wait_for(".welfare-check").await;
        volunteer::send_raw(
            &vic,
            &room_id,
            serde_json::json!({ "msgtype": "m.text", "body": "ok pineapple" }),
        )
        .await;
        app.wait_for_text_within("#alarms", "Silent alarm: vic", RELAY)
            .await;
        app.wait_for_text(
            ".duress-panel",
            "checked in from chat with the team’s duress word",
        )
        .await;
        let confirmed = posted(&vic, &room_id, "checked_in").await;
        assert!(
            !confirmed.to_lowercase().contains("duress") && !confirmed.contains("pineapple"),
            "{confirmed}"
        );
        app.js("window.scrollTo(0, 0)").await;
        app.screenshots("duress-alarm").await;
        let violations = app.axe_violations().await;
        assert!(violations.is_empty(), "{violations:#?}");
        app.click("#alarms button[data-act='acknowledge']").await;
        app.wait_until_gone("duress-panel", "the silent alarm was not dealt with")
            .await;

        // Vic makes new keys (or someone else now has his account): the Team screen warns,
        // and so does the session shared in that team, until Asha says she has checked.
        volunteer::reset_identity(&vic, "vic").await;
        app.wait_for_text(".checkin-detail", "A teammate’s identity has changed")
            .await;
        app.go("#/team").await;
        app.wait_for_text(".identity-changes h2", "vic’s identity has changed")
            .await;
        app.wait_for_text(".identity-changes", "(you had verified them)")
            .await;
        app.wait_for_text(
            ".identity-changes",
            "vic has reset their encryption keys, or someone else now holds their account.",
        )
        .await;
        app.js("document.querySelector('.identity-changes').scrollIntoView({ block: 'start' })")
            .await;
        app.screenshots("team-trust-identity-changed").await;
        app.click(".identity-changes button").await;
        app.wait_until_gone("identity-title", "the identity warning")
            .await;
        app.quit(driver).await;
        (room_id, recovery_key)
    };

    // 45 minutes on, the app starts again: signed back in to the team, the check-in is
    // missed, and the alarm goes to the room as well as on this screen.
    let driver = &Driver::start_with(
        &desktop,
        data.path(),
        &[("CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES", "45")],
    );
    let app = App::launch(driver).await;
    app.wait_for_text("#alarms", "Missed check-in: Canvass – Mill Lane")
        .await;
    // The alarm says where Vic last was, with its age, and links to open it outside the app.
    app.wait_for_text_within(
        "#alarms .alarm-where",
        "Last known location 51.45600, -2.58500 (within 12 m), from vic,",
        RELAY,
    )
    .await;
    app.wait_for_text("#alarms .alarm-where", "min ago").await;
    app.screenshots("alarm-with-location").await;
    notices.wait_for("Missed check-in: Canvass – Mill Lane");
    let missed = posted(&vic, &room_id, "missed").await;
    assert!(
        missed.starts_with("@room 🚨 MISSED CHECK-IN: Canvass – Mill Lane."),
        "{missed}"
    );
    app.go("#/team").await;
    app.wait_for_text(".team-connection", "Connected").await;
    app.go("#/checkins").await;
    app.wait_for_text(".session-list .team-line", "Shared with Ward 3 team")
        .await;
    app.js("window.scrollTo(0, 0)").await;
    app.screenshots("team-missed").await;

    // Vic, a member of the team but not the one who started the canvass, tries to end it
    // from his own client (as anyone in the room could): the app ignores it and says so.
    let started = post(&vic, &room_id, "started").await;
    let forged = serde_json::json!({
        "msgtype": "m.notice",
        "body": "🏠 Canvass – Mill Lane has ended: Priya Shah and Tomasz Nowak are safe.",
        "uk.campaignsafe.checkin": {
            "v": 1, "event": "ended", "session": started["uk.campaignsafe.checkin"]["session"],
            "at": chrono::Utc::now().timestamp_millis(), "by": "asha", "how": "app"
        }
    });
    volunteer::send_raw(&vic, &room_id, forged).await;
    app.click(".session-list .card-title a").await;
    let deadline = Instant::now() + RELAY;
    while !app
        .js("return document.querySelector('.ignored-changes')?.textContent ?? ''")
        .await
        .as_str()
        .unwrap_or_default()
        .contains("A change from vic was ignored: only asha's devices can end this session.")
    {
        if Instant::now() >= deadline {
            panic!(
                "Vic's forged end was never shown as ignored. The window is at {} showing “{}”. The app's log says:\n{}",
                app.js("return location.hash").await,
                app.js("return document.querySelector('main')?.innerText ?? ''").await,
                log_lines(
                    data.path(),
                    &["vic", "decrypt", "unreadable", "team event", "identity", "error"]
                )
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.wait_for_text(".session-status", "Missed").await;
    app.js("document.querySelector('.ignored-changes').scrollIntoView({ block: 'center' })")
        .await;
    app.screenshots("team-change-ignored").await;
    app.quit(driver).await;

    // Neither the access token nor the store's passphrase is ever written to the log.
    let (session, passphrase): (String, String) = desktop
        .open_record(data.path())
        .query_row(
            "SELECT session, store_passphrase FROM team_account",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let token: serde_json::Value = serde_json::from_str(&session).unwrap();
    let token = token["access_token"]
        .as_str()
        .or(token["tokens"]["access_token"].as_str())
        .expect("an access token")
        .to_owned();
    let logs: String = std::fs::read_dir(data.path().join("logs"))
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect();
    assert!(
        logs.contains("signed in to the team server"),
        "the log was read"
    );
    for secret in [&token, &passphrase, &recovery_key] {
        assert!(!logs.contains(secret.as_str()), "a secret reached the log");
    }
}

/// A laptop signed in to an account made in Element (cross-signing and recovery set up there)
/// is not confirmed: the Team screen says so and what follows, refuses a wrong recovery key
/// by its field, and confirms the device with the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_on_an_element_account_confirms_itself_with_the_recovery_key() {
    let _one = serial();
    let server = Synapse::start().await;
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let notices = NotificationServer::start(&desktop.bus, true);
    // Sam's phone runs a strict stand-in for Element X: it gives no key to a device Sam has
    // not confirmed.
    let (sam_phone, key) = volunteer::element_x("sam", &server).await;
    let driver = &Driver::start(&desktop, data.path());
    let app = App::launch(driver).await;
    app.go("#/team").await;
    app.wait_for_text(".team-connection", "Not signed in").await;
    app.type_in("#f-homeserver", &server.url()).await;
    app.type_in("#f-user", "sam").await;
    app.type_in("#f-password", "sam-password").await;
    app.type_in("#f-deviceName", "Campaign office laptop").await;
    app.click(".team-form button[type='submit']").await;
    app.wait_for_text(".team-connection", "Connected").await;
    app.wait_for_text(".team-status", "This device is not confirmed.")
        .await;
    app.wait_for_text(
        ".team-status",
        "Element users in your team will not send messages to this laptop until you confirm it, and neither will their Campaign Safe devices",
    )
    .await;
    app.wait_for_text("#confirm-device-title", "Confirm this device")
        .await;
    app.screenshots("team-trust-unconfirmed").await;

    // A team and a canvass shared with it, then "HELP" from Sam's phone: the laptop cannot
    // read it, and says so on the Team screen and on the canvass.
    app.type_in("#f-create-name", "Ward 3 team").await;
    app.click("form[aria-labelledby='create-team-title'] button[type='submit']")
        .await;
    app.wait_for_text(".team-card .card-title", "Ward 3 team")
        .await;
    let room_id = app
        .js("return document.querySelector('.team-card').dataset.roomId")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    start_shared_canvass(&app, "Sam Okafor", None).await;
    volunteer::send(
        volunteer::synced_into(&sam_phone, &room_id).await,
        &room_id,
        matrix_sdk::ruma::events::room::message::RoomMessageEventContent::text_plain("HELP"),
    )
    .await;
    // Sam is out on that canvass: the desktop is told too, since it could be HELP.
    notices.wait_for("A message from sam could not be read");
    app.go("#/team").await;
    app.wait_for_text(".unreadable-posts", "A message from sam at")
        .await;
    app.wait_for_text(
        ".unreadable-posts",
        "could not be read on this device. It may be about Canvass – Mill Lane, which is out: it could be a call for help, so call them.",
    )
    .await;
    app.js("document.querySelector('.unreadable-posts').scrollIntoView({ block: 'start' })")
        .await;
    app.screenshots("team-unreadable-message").await;
    app.click(".unreadable-posts a").await;
    app.wait_for_text(".unreadable-note", "A message from sam at")
        .await;
    app.js("document.querySelector('.unreadable-note').scrollIntoView({ block: 'center' })")
        .await;
    app.screenshots("team-unreadable-session").await;
    // The phone keeps the key to its message in Sam's key backup.
    sam_phone
        .encryption()
        .backups()
        .wait_for_steady_state()
        .await
        .expect("the phone backs up its keys");
    app.go("#/team").await;
    app.wait_for_text("#confirm-device-title", "Confirm this device")
        .await;

    // A key with one letter wrong is refused next to its field; the device stays unconfirmed.
    let last = key.chars().last().unwrap();
    let mistyped = format!(
        "{}{}",
        &key[..key.len() - 1],
        if last == 'a' { 'b' } else { 'a' }
    );
    app.type_in("#f-confirm-recoveryKey", &mistyped).await;
    app.click("form[aria-labelledby='confirm-device-title'] button[type='submit']")
        .await;
    app.wait_for_text(
        "#error-confirm-recoveryKey",
        "Recovery key: that is not this account's recovery key.",
    )
    .await;
    assert_eq!(app.active_element_id().await, "f-confirm-recoveryKey");
    app.screenshots("team-trust-wrong-key").await;

    // Or compare numbers with Sam's phone: numbers first, pictures on request. Said not to
    // match, nothing is confirmed and the screen says what to do.
    let phone = volunteer::Verifier::new(&sam_phone);
    app.click("#compare-own").await;
    app.wait_for_text_within("#compare-title", "Waiting for your other session", RELAY)
        .await;
    let request = phone.next_request("the phone hears the laptop").await;
    request
        .accept_with_methods(vec![
            matrix_sdk::ruma::events::key::verification::VerificationMethod::SasV1,
        ])
        .await
        .expect("the phone accepts");
    let sas = volunteer::Verifier::sas(&request, "the laptop starts comparing").await;
    app.wait_for_text_within("#compare-title", "Compare the numbers", RELAY)
        .await;
    let (a, b, c) = sas.decimals().expect("the phone shows numbers");
    app.wait_for_text(".sas-numbers", &format!("{a}{b}{c}"))
        .await;
    app.wait_for_text(
        ".comparison",
        "Check that your session “sam's phone” shows the same three numbers",
    )
    .await;
    app.js(
        "document.querySelector('.sas-numbers, .sas-pictures').scrollIntoView({ block: 'center' })",
    )
    .await;
    app.screenshots("team-trust-confirm-numbers").await;
    app.click("#compare-toggle").await;
    let first = sas.emoji().expect("pictures offered")[0].description;
    app.wait_for_text(".sas-pictures", first).await;
    assert_eq!(app.active_element_id().await, "compare-title");
    app.js(
        "document.querySelector('.sas-numbers, .sas-pictures').scrollIntoView({ block: 'center' })",
    )
    .await;
    app.screenshots("team-trust-confirm-pictures").await;
    // The comparison, numbers and pictures and all, holds up to axe as every screen does.
    let violations = app.axe_violations().await;
    assert!(violations.is_empty(), "{violations:#?}");
    app.click("#compare-mismatch").await;
    app.wait_for_text_within("#compare-title", "Nothing was confirmed", RELAY)
        .await;
    app.wait_for_text(".comparison", "The numbers did not match")
        .await;
    app.click("#compare-stop").await;
    app.wait_until_gone("compare-title", "the ended comparison did not close")
        .await;
    phone.finish().await;
    assert!(app
        .js("return document.querySelector('.team-status').textContent.includes('This device is not confirmed')")
        .await
        .as_bool()
        .unwrap());

    app.retype("#f-confirm-recoveryKey", &key).await;
    app.click("form[aria-labelledby='confirm-device-title'] button[type='submit']")
        .await;
    app.wait_for_text(".team-status", "This device is confirmed by its owner")
        .await;
    // The status panel follows live; the form goes when the screen is drawn again.
    app.wait_until_gone(
        "confirm-device-title",
        "the confirm form was still there a minute after the device was confirmed",
    )
    .await;
    app.screenshots("team-trust-confirmed").await;
    // Confirmed, the laptop reads the HELP from the key backup: the alarm goes off, and the
    // message is no longer listed as unreadable.
    app.wait_for_text("#alarms", "asked for help").await;
    app.go("#/team").await;
    app.wait_for_text(".team-connection", "Connected").await;
    assert!(
        app.js("return document.querySelector('.unreadable-posts') === null")
            .await
            .as_bool()
            .unwrap(),
        "the message, now read, is no longer listed"
    );
    app.quit(driver).await;
}

/// Starts "Canvass – Mill Lane" for `participants` from the form, shared with Ward 3 team,
/// and waits for its page.
/// Starts a canvass shared with the team; `chat_member` (a Matrix id's start) is ticked as out
/// on it from the team room.
async fn start_shared_canvass(app: &App, participants: &str, chat_member: Option<&str>) {
    app.go("#/checkins/new").await;
    app.wait_for_text("main h1", "New check-in session").await;
    app.type_in("#f-title", " – Mill Lane").await;
    app.type_in("#f-participants", participants).await;
    app.type_in("[id='f-escalation[0].name']", "Campaign office")
        .await;
    app.type_in("[id='f-escalation[0].phone']", "01632 960 123")
        .await;
    app.wait_for("#f-shareWith option[value^='!']").await;
    app.click("#f-shareWith option[value^='!']").await;
    if let Some(member) = chat_member {
        let tick = format!(".chat-members input[value^='{member}']");
        app.wait_for(&tick).await;
        app.click(&tick).await;
    }
    app.click(".session-form button[type='submit']").await;
    app.wait_for_text(".checkin-detail .team-line", "Shared with Ward 3 team")
        .await;
}

/// Waits until the room holds the app's post of `kind`, and returns its text.
async fn posted(vic: &matrix_sdk::Client, room: &str, kind: &str) -> String {
    post(vic, room, kind).await["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the room holds the app's post of `kind`, and returns it whole.
async fn post(vic: &matrix_sdk::Client, room: &str, kind: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let posts = volunteer::posts(vic, room).await;
        if let Some(post) = posts
            .iter()
            .rev()
            .find(|p| p["uk.campaignsafe.checkin"]["event"] == kind)
        {
            return post.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} post reached the room; posts: {posts:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The app's log lines that mention any of `words`, for a wait that failed.
fn log_lines(data: &std::path::Path, words: &[&str]) -> String {
    std::fs::read_dir(data.join("logs"))
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
                .collect::<String>()
        })
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            let line = line.to_lowercase();
            words.iter().any(|word| line.contains(word))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
