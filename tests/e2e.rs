//! End-to-end: the real app binary in a real window under Xvfb, driven over WebDriver.
//! Screenshots (1280×800 and 360×740) are saved under target/e2e/.

// Each test holds the serial lock for its whole run on purpose: it owns a display, a driver
// and an app, and runs on its own single-threaded runtime.
#![allow(clippy::await_holding_lock)]

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use std::process::Command;
use std::time::Duration;

use fantoccini::key::Key;
use support::{serial, spawn_app, stop, wait_for_log, App, Desktop, Driver, Harness, Hold};

const SCREENS: &[(&str, &str)] = &[
    ("#/today", "Today"),
    ("#/checkins", "Check-ins"),
    ("#/incidents", "Incidents"),
    ("#/sos", "SOS guides"),
    ("#/advice", "Advice"),
    ("#/advice/routine", "Your routine"),
    ("#/sos/apple-watch", "Apple Watch"),
    ("#/contacts", "Your contacts"),
    ("#/emergency", "Emergency"),
];

#[tokio::test]
async fn an_advice_tick_survives_quitting_and_relaunching() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;

    let app = App::launch(driver).await;
    assert_eq!(app.heading().await, "Today");
    app.wait_for_text(".cards", "0 of 36 done").await;
    app.screenshots("today").await;

    // Keyboard only: open Advice from the navigation, then the first section.
    app.type_in(
        "nav a[data-screen='advice']",
        &char::from(Key::Enter).to_string(),
    )
    .await;
    app.wait_for_text("main h1", "Advice").await;
    app.wait_for_text(
        "a[href='#/advice/cyber-hygiene'] .progress-label",
        "0 of 5 done",
    )
    .await;
    app.screenshots("advice-list").await;

    app.type_in(
        "a[href='#/advice/cyber-hygiene']",
        &char::from(Key::Enter).to_string(),
    )
    .await;
    app.wait_for_text("main h1", "Be cyber aware").await;
    assert_eq!(
        app.active_element_id().await,
        "H1",
        "focus moves to the new screen's heading"
    );

    // Tick with the space bar.
    app.type_in("#item-two-step-verification", " ").await;
    app.wait_for_text(".section-progress", "1 of 5 done").await;
    let when = app
        .wait_for_text("#item-two-step-verification-when", "Done ")
        .await;
    assert!(when.contains(" 20"), "shows when it was ticked: {when}");
    app.screenshots("advice-section-ticked").await;
    app.quit(driver).await;

    // Relaunch with the same data folder: the tick is still there, with its time.
    let app = App::launch(driver).await;
    app.go("#/advice").await;
    app.wait_for_text(
        "a[href='#/advice/cyber-hygiene'] .progress-label",
        "1 of 5 done",
    )
    .await;
    app.go("#/advice/cyber-hygiene").await;
    app.wait_for_text("main h1", "Be cyber aware").await;
    let checked = app
        .js("return document.querySelector('#item-two-step-verification').checked")
        .await;
    assert_eq!(checked, true);
    assert_eq!(app.text("#item-two-step-verification-when").await, when);
    let others = app
        .js("return [...document.querySelectorAll('.checklist input:checked')].length")
        .await;
    assert_eq!(others, 1);

    // Untick: progress goes back and the time disappears.
    app.type_in("#item-two-step-verification", " ").await;
    app.wait_for_text(".section-progress", "0 of 5 done").await;
    app.quit(driver).await;
}

#[tokio::test]
async fn emergency_is_reachable_by_keyboard_from_every_screen() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    // On launch, the first Tab lands on Emergency, and Enter opens it.
    app.press(Key::Tab).await;
    assert_eq!(app.active_element_id().await, "emergency-button");
    app.press(Key::Enter).await;
    app.wait_for_text("main h1", "Emergency").await;

    for (hash, heading) in SCREENS {
        app.go(hash).await;
        app.wait_for_text("main h1", heading).await;
        let name = hash.trim_start_matches("#/").replace('/', "-");
        app.screenshots(&format!("screen-{name}")).await;

        // The button is on screen at phone width too.
        app.resize(360, 740).await;
        let visible = app
            .js("const r = document.getElementById('emergency-button').getBoundingClientRect();
                 return r.top >= 0 && r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight && r.height >= 44;")
            .await;
        assert_eq!(
            visible, true,
            "Emergency button visible at 360 px on {hash}"
        );
        app.resize(1280, 800).await;

        app.press_alt_e().await;
        app.wait_for_text("main h1", "Emergency").await;
        assert_eq!(
            app.active_element_id().await,
            "H1",
            "Alt+E from {hash} focuses the Emergency heading"
        );
    }

    let call = app.find("a.call-button").await;
    assert_eq!(call.attr("href").await.unwrap().as_deref(), Some("tel:999"));
    app.wait_for_text("#emergency-cant-speak + ol", "Press 55")
        .await;
    app.wait_for_text("main .sources", "Checked against these pages")
        .await;
    let call_101 = app.find("a[href='tel:101']").await;
    assert_eq!(call_101.text().await.unwrap(), "Call 101");
    app.screenshots("emergency").await;
    app.quit(driver).await;
}

#[tokio::test]
async fn dark_and_high_contrast_displays_apply_and_are_kept() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    for (choice, name) in [("dark", "dark"), ("contrast", "high-contrast")] {
        app.go("#/today").await;
        app.wait_for_text("main h1", "Today").await;
        app.click(&format!("#display-choice option[value='{choice}']"))
            .await;
        let theme = app
            .js("return document.documentElement.dataset.theme")
            .await;
        assert_eq!(theme, choice);
        app.screenshots(&format!("today-{name}")).await;
        app.go("#/advice/being-followed").await;
        app.wait_for_text("main h1", "If you think you are being followed")
            .await;
        app.screenshots(&format!("advice-section-{name}")).await;
        app.go("#/emergency").await;
        app.wait_for_text("main h1", "Emergency").await;
        app.screenshots(&format!("emergency-{name}")).await;
    }
    app.quit(driver).await;

    // The last choice is remembered on this device.
    let app = App::launch(driver).await;
    let theme = app
        .js("return document.documentElement.dataset.theme")
        .await;
    assert_eq!(theme, "contrast");
    app.quit(driver).await;
}

#[tokio::test]
async fn a_damaged_database_is_explained_and_left_untouched() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let db_path = data.path().join("campaign-safe.sqlite3");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 256) as u8).collect();
    std::fs::write(&db_path, &garbage).unwrap();

    let desktop = Desktop::start();
    // Looking for the key waits for this file: the window is up before the record is
    // refused (no key for it), and is told so.
    let (driver, release) = Driver::start_holding(&desktop, data.path(), Hold::KeyReading);
    let driver = &driver;
    let app = App::launch_before_first_screen(driver).await;
    app.wait_for_text("#opening", "Opening your record").await;
    std::fs::write(&release, b"go").unwrap();
    app.wait_for_text(
        ".banner-problem",
        "Your saved data cannot be used right now",
    )
    .await;
    app.wait_for_text(".banner-problem", "left exactly as it was")
        .await;

    // Advice still reads; ticking says why it cannot be saved, next to the item.
    app.go("#/advice/routine").await;
    app.wait_for_text("main h1", "Your routine").await;
    app.type_in("#item-stay-alert", " ").await;
    app.wait_for_text("li:first-child .field-error", "database is not available")
        .await;
    let checked = app
        .js("return document.querySelector('#item-stay-alert').checked")
        .await;
    assert_eq!(
        checked, false,
        "a tick that was not saved is not shown as saved"
    );
    app.screenshots("damaged-database").await;
    app.quit(driver).await;

    assert_eq!(std::fs::read(&db_path).unwrap(), garbage);
}

/// A record saved by the previous version is upgraded with the window already open: the
/// window says so, Emergency works meanwhile, and the saved data is there once it is done.
#[tokio::test]
async fn an_upgrade_runs_with_the_window_open_and_keeps_the_data() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let db_path = data.path().join("campaign-safe.sqlite3");
    let desktop = Desktop::start();
    {
        // Today's schema taken back one step, unencrypted: what the previous version left.
        let database = desktop.new_record(data.path());
        let conn = database.conn();
        campaign_safe_lib::contacts::save(
            &conn,
            "election-coordinator",
            "Priya Shah",
            "01632 960 123",
            "",
            chrono::Utc::now(),
        )
        .unwrap();
        // Schemas 18 (duress), 17 (locations), 16 (record heads), 15 (device confirmed), 14 (senders), 13 (imported
        // versions), 12 to 9 (plans, do-not-knock, aftercare), 8 (signatures) and 7
        // (settings) undone.
        conn.execute_batch(
            "ALTER TABLE team DROP COLUMN duress_word; ALTER TABLE team DROP COLUMN duress_set_by;
             ALTER TABLE team DROP COLUMN duress_set_at;
             ALTER TABLE checkin_session DROP COLUMN duress_at;
             ALTER TABLE checkin_session DROP COLUMN duress_by;
             ALTER TABLE checkin_session DROP COLUMN duress_by_name;
             ALTER TABLE checkin_session DROP COLUMN duress_how;
             ALTER TABLE checkin_session DROP COLUMN duress_acknowledged_at;
             DROP TABLE session_location; DROP TABLE location_share;
             DROP TABLE record_head_seen; ALTER TABLE team_account DROP COLUMN device_confirmed;
             ALTER TABLE checkin_event DROP COLUMN by_name; ALTER TABLE checkin_event DROP COLUMN via;
             ALTER TABLE team_event_seen DROP COLUMN app; ALTER TABLE team_outbox DROP COLUMN hold_ms;
             ALTER TABLE incident_version DROP COLUMN imported_at;
             DROP TABLE safety_review; DROP TABLE follow_up; DROP TABLE debrief;
             ALTER TABLE checkin_session DROP COLUMN plan_id;
             DROP TABLE canvass_plan; DROP TABLE do_not_knock;
             DROP TABLE device_key; DROP TABLE known_signer;
             ALTER TABLE incident_version DROP COLUMN signature;
             ALTER TABLE incident_version DROP COLUMN signer;
             DROP TABLE app_setting;",
        )
        .unwrap();
    }
    support::make_earlier_version(&db_path, &desktop.record_key(data.path()), 6);
    assert!(
        contains(&std::fs::read(&db_path).unwrap(), b"Priya Shah"),
        "the earlier version's record is plain"
    );
    // The upgrade waits for this file, so the test sees the window while it runs.
    let (driver, release) = Driver::start_holding(&desktop, data.path(), Hold::RecordOpening);
    let driver = &driver;
    let app = App::launch(driver).await;
    app.wait_for_text("#upgrading", "Upgrading your record")
        .await;
    app.go("#/emergency").await;
    app.wait_for_text("main h1", "Emergency").await;
    app.wait_for_text("main", "999").await;
    app.screenshots("upgrading").await;

    std::fs::write(&release, b"go").unwrap();
    app.wait_until_gone(
        "upgrading",
        "the upgrade notice was still up a minute after the upgrade was let go",
    )
    .await;
    app.wait_for_text("main", "Priya Shah").await;
    app.screenshots("upgraded").await;
    app.quit(driver).await;

    let conn = desktop.open_record(data.path());
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        version as usize,
        campaign_safe_lib::storage::latest_schema_version()
    );
    // Encrypted on the way: no trace of the name in the record's files.
    for name in ["campaign-safe.sqlite3", "campaign-safe.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(data.path().join(name)) {
            assert!(
                !contains(&bytes, b"Priya Shah"),
                "{name} holds the name in the clear"
            );
            assert!(
                !contains(&bytes, b"SQLite format 3"),
                "{name} is not encrypted"
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn markup_in_a_link_is_shown_as_text() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    app.go("#/advice/<img src=x onerror=\"document.title='pwned'\">")
        .await;
    app.wait_for_text("main .problem", "<img src=x").await;
    let images = app
        .js("return document.querySelectorAll('main img').length")
        .await;
    assert_eq!(images, 0);
    assert_ne!(app.js("return document.title").await, "pwned");
    app.quit(driver).await;
}

#[tokio::test]
async fn a_second_launch_hands_over_and_never_writes_the_record_with_or_without_dbus() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();

    let mut first = spawn_app(data.path(), desktop.app_env(data.path()));
    wait_for_log(&mut first, data.path(), "database open");

    // A second launch with the same record finds the first, asks it to come forward and exits.
    let mut second = spawn_app(data.path(), desktop.app_env(data.path()));
    let status =
        wait_with_timeout(&mut second, Duration::from_secs(20)).expect("second instance exits");
    assert!(status.success(), "second instance exited with {status}");
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first instance keeps running"
    );
    stop(&mut first);

    // With no usable D-Bus session (so no keyring: this record is kept under a passphrase)
    // the app starts and asks for it, and a second launch still hands over: the lock is on
    // the data folder, not on the bus.
    let lonely = tempfile::tempdir().unwrap();
    {
        let key = campaign_safe_lib::vault::choose_passphrase(
            lonely.path(),
            "lonely laptop passphrase",
            "lonely laptop passphrase",
        )
        .unwrap();
        campaign_safe_lib::storage::Database::open_in(lonely.path(), &key).unwrap();
    }
    let mut env = desktop.app_env(lonely.path());
    env.retain(|(key, _)| key != "DBUS_SESSION_BUS_ADDRESS");
    env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        "unix:path=/nonexistent/bus".into(),
    ));
    let mut alone = spawn_app(lonely.path(), env.clone());
    wait_for_log(
        &mut alone,
        lonely.path(),
        "the record waits for its passphrase",
    );
    let mut again = spawn_app(lonely.path(), env.clone());
    let status = wait_with_timeout(&mut again, Duration::from_secs(20))
        .expect("a second launch without D-Bus exits");
    assert!(status.success(), "second launch exited with {status}");
    assert!(
        alone.try_wait().unwrap().is_none(),
        "the app runs without D-Bus"
    );
    // It ends at once (no exit handlers), but its last log line is written first.
    assert!(
        log_text(lonely.path()).contains("already running with this record"),
        "the second launch logged its hand-over:\n{}",
        log_text(lonely.path())
    );

    // A first copy that does not answer (stopped here) keeps the record: the next launch
    // opens its window, says why, and never opens the database.
    let pid = alone.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let database = lonely.path().join(campaign_safe_lib::storage::DB_FILE_NAME);
    let before = std::fs::read(&database).unwrap();
    let mut third = spawn_app(lonely.path(), env);
    wait_for_log(&mut third, lonely.path(), "already open on this computer");
    assert!(
        third.try_wait().unwrap().is_none(),
        "the third launch keeps its window open"
    );
    assert_eq!(
        std::fs::read(&database).unwrap(),
        before,
        "the record was not touched"
    );
    let log = log_text(lonely.path());
    assert_eq!(
        log.matches("the record waits for its passphrase").count(),
        1,
        "only the first copy got as far as asking for the record's passphrase:\n{log}"
    );
    stop(&mut third);
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    stop(&mut alone);
}

/// Everything the app logged in this data folder.
fn log_text(data_dir: &std::path::Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(data_dir.join("logs"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap_or_default())
        .collect()
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[tokio::test]
async fn find_a_galaxy_s23_guide_tick_it_and_find_it_after_relaunch() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    app.type_in(
        "nav a[data-screen='sos']",
        &char::from(Key::Enter).to_string(),
    )
    .await;
    app.wait_for_text("main h1", "SOS guides").await;

    // Odd input gets a clear message next to the field.
    app.type_in("#model", "   \u{E007}").await;
    app.wait_for_text("#error-model", "Type your phone or watch model")
        .await;

    app.type_in("#model", "Galaxy S23\u{E007}").await;
    app.wait_for_text(".result-card", "Galaxy S23: Samsung Galaxy")
        .await;
    app.click(".result-card button").await;
    app.wait_for_text(".my-devices", "Galaxy S23").await;
    app.screenshots("sos-model-search").await;

    app.type_in(".result-card a.button", &char::from(Key::Enter).to_string())
        .await;
    app.wait_for_text("main h1", "Samsung Galaxy").await;
    app.wait_for("svg.device-diagram").await;
    assert_eq!(app.text(".diagram-legend").await, "Side key: Press 5×");
    app.type_in("#setup-number-checked", " ").await;
    app.wait_for_text(".section-progress", "1 of 3 done").await;
    app.screenshots("sos-guide-samsung").await;
    // Its source is Samsung's German page (no UK one was at hand): the guide says so.
    app.wait_for_text("main .sources .source-note", "No Samsung UK page")
        .await;
    app.screenshots_of("sos-guide-samsung-sources", Some("main .sources"))
        .await;
    app.go("#/sos/iphone-8-and-later").await;
    app.wait_for_text("main h1", "iPhone 8 and later").await;
    app.screenshots("sos-guide-iphone").await;
    app.go("#/sos/apple-watch").await;
    app.wait_for_text("main h1", "Apple Watch").await;
    app.screenshots("sos-guide-apple-watch").await;
    app.quit(driver).await;

    let app = App::launch(driver).await;
    app.go("#/sos/samsung-galaxy").await;
    app.wait_for_text("main h1", "Samsung Galaxy").await;
    assert_eq!(
        app.js("return document.querySelector('#setup-number-checked').checked")
            .await,
        true
    );
    assert!(app
        .text("#setup-number-checked-when")
        .await
        .starts_with("Done "));

    // The saved device is one tap away on the Emergency screen.
    app.press_alt_e().await;
    app.wait_for_text("main", "Galaxy S23: how to call for help")
        .await;
    app.quit(driver).await;
}

#[tokio::test]
async fn contact_cards_validate_phone_numbers_and_show_on_the_emergency_screen() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    app.go("#/contacts").await;
    app.wait_for_text("main h1", "Your contacts").await;
    let form = "form[aria-labelledby='force-election-contact-title']";
    app.type_in("#force-election-contact-name", "PC Jo <b>Bloggs</b>")
        .await;
    app.type_in("#force-election-contact-phone", "+1 202 555 0100")
        .await;
    app.click(&format!("{form} button[type='submit']")).await;
    app.wait_for_text("#force-election-contact-phone-error", "only UK numbers")
        .await;
    // What was typed is still there to correct.
    assert_eq!(
        app.js("return document.querySelector('#force-election-contact-name').value")
            .await,
        "PC Jo <b>Bloggs</b>"
    );
    app.screenshots("contacts-phone-error").await;

    app.js("document.querySelector('#force-election-contact-phone').value = ''")
        .await;
    app.type_in("#force-election-contact-phone", "07700 900 123")
        .await;
    app.click(&format!("{form} button[type='submit']")).await;
    app.wait_for_text(&format!("{form} .saved"), "Saved.").await;

    app.press_alt_e().await;
    app.wait_for_text(".contact-list", "PC Jo <b>Bloggs</b>")
        .await;
    let href = app.find(".contact-phone").await.attr("href").await.unwrap();
    assert_eq!(href.as_deref(), Some("tel:07700900123"));
    // Shown as it was typed, with its spaces.
    assert_eq!(app.text(".contact-phone").await, "07700 900123");
    assert_eq!(
        app.js("return document.querySelectorAll('.contact-list b').length")
            .await,
        0
    );
    app.screenshots("emergency-with-contacts").await;
    app.quit(driver).await;
}

#[tokio::test]
async fn start_a_canvass_check_in_and_see_the_timeline() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    app.go("#/checkins/new").await;
    app.wait_for_text("main h1", "New check-in session").await;
    // A bad phone number is refused next to its field, and what was typed stays.
    app.type_in("#f-participants", "Asha, Ben").await;
    app.type_in("[id='f-escalation[0].name']", "Office").await;
    app.type_in("[id='f-escalation[0].phone']", "12345").await;
    app.click(".session-form button[type='submit']").await;
    app.wait_for_text("[id='error-escalation[0].phone']", "UK number")
        .await;
    assert_eq!(
        app.js("return document.querySelector('#f-participants').value")
            .await,
        "Asha, Ben"
    );
    app.screenshots("checkin-form").await;

    app.js("document.querySelector(\"[id='f-escalation[0].phone']\").value = ''")
        .await;
    app.type_in("[id='f-escalation[0].phone']", "01632 960 123")
        .await;
    app.click(".session-form button[type='submit']").await;
    app.wait_for_text(".timeline", "Started").await;

    app.go("#/today").await;
    app.wait_for_text(".session-list", "On schedule").await;
    app.wait_for_text(".session-list .countdown", "in 29 min")
        .await;
    app.screenshots("today-with-session").await;
    app.click(".session-list button[data-act='check-in']").await;
    app.wait_for_text("main h1", "Today").await;

    app.type_in(
        ".session-list .card-title a",
        &char::from(Key::Enter).to_string(),
    )
    .await;
    app.wait_for_text(".timeline", "Checked in").await;
    app.screenshots("checkin-timeline").await;
    app.quit(driver).await;
}

/// Counts the session's "missed" events in its timeline as the app shows it.
async fn missed_events(app: &App, session_path: &str) -> usize {
    app.go(session_path).await;
    app.wait_for(".timeline").await;
    app.js("return document.querySelectorAll('.timeline .timeline-missed').length")
        .await
        .as_u64()
        .unwrap() as usize
}

#[tokio::test]
async fn after_a_restart_past_the_due_time_exactly_one_missed_alert_is_raised() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();

    let session_path = {
        let driver = &Driver::start(&desktop, data.path());
        let app = App::launch(driver).await;
        app.go("#/checkins/new").await;
        app.wait_for_text("main h1", "New check-in session").await;
        app.type_in("#f-title", " – Ward 3").await;
        app.type_in("#f-participants", "Asha, Ben").await;
        app.type_in("#f-notes", "Asha: red coat. Ben: phone battery low.")
            .await;
        app.type_in("[id='f-escalation[0].name']", "Campaign office")
            .await;
        app.type_in("[id='f-escalation[0].phone']", "01632 960 123")
            .await;
        app.click(".session-form button[type='submit']").await;
        app.wait_for_text(".timeline", "Started").await;
        let url = app.client.current_url().await.unwrap();
        let path = format!("#{}", url.fragment().unwrap());
        app.quit(driver).await;
        path
    };

    // Start again 45 minutes later: due at +30, grace 10 minutes, so it was missed.
    for offset in ["45", "47"] {
        let driver = &Driver::start_with(
            &desktop,
            data.path(),
            &[("CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES", offset)],
        );
        let app = App::launch(driver).await;
        app.wait_for_text("#alarms", "Missed check-in: Canvass – Ward 3")
            .await;
        if offset == "45" {
            app.screenshots("missed-alarm").await;
            app.click("#alarms .alarm a").await;
            app.wait_for_text(".missed-panel", "Asha and Ben – overdue since")
                .await;
            let message = app.text(".prepared-message").await;
            assert!(
                message.ends_with("Notes: Asha: red coat. Ben: phone battery low."),
                "{message}"
            );
            let tel = app
                .find(".missed-panel a[href^='tel:']")
                .await
                .attr("href")
                .await
                .unwrap();
            assert_eq!(tel.as_deref(), Some("tel:01632960123"));
            app.screenshots("missed-check-in").await;
        }
        assert_eq!(
            missed_events(&app, &session_path).await,
            1,
            "one missed alert, also after another restart"
        );
        app.quit(driver).await;
    }
}

#[tokio::test]
async fn every_screen_can_be_walked_with_the_keyboard_at_phone_and_laptop_width() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    let forms = [
        ("#/checkins/new", "New check-in session"),
        ("#/incidents/new", "Record an incident"),
        ("#/incidents/new/full", "Record an incident"),
        ("#/incidents/export", "Evidence pack"),
        ("#/plans/new", "Plan a canvass"),
        ("#/do-not-knock", "Do-not-knock list"),
        ("#/review", "Review emergency arrangements"),
    ];
    for (width, height) in [(360, 740), (1280, 800)] {
        app.resize(width, height).await;
        for (hash, heading) in SCREENS.iter().copied().chain(forms) {
            app.go(hash).await;
            app.wait_for_text("main h1", heading).await;
            // Focus lands on the heading, so a screen reader starts there and Tab goes on.
            // Waited for: going to the screen already shown (Today at launch) draws it again
            // after the heading the wait above found.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while app.active_element_id().await != "H1" && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(app.active_element_id().await, "H1", "focus on {hash}");
            let expected = app.controls_after_heading().await;
            if expected.is_empty() {
                continue;
            }
            // Real Tab reaches every control in order, each clear of the bars, each ringed.
            let stops = app.tab_through_page().await;
            assert_eq!(stops, expected, "Tab order on {hash} at {width} px");
        }
    }
    app.quit(driver).await;
}

/// A desktop with no keyring: the first start asks for a passphrase and says why; the record
/// then opens, is kept encrypted under it, and the next start asks for it again. The window
/// comes before the key is looked for, and says so once it is known there is none.
#[tokio::test]
async fn with_no_keyring_a_passphrase_is_chosen_then_asked_for_at_the_next_start() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start_without_keyring();
    // Looking for the key waits for this file, as a keyring asking to be unlocked would.
    let (driver, release) = Driver::start_holding(&desktop, data.path(), Hold::KeyReading);
    let driver = &driver;

    let app = App::launch_before_first_screen(driver).await;
    app.wait_for_text("#opening", "Opening your record").await;
    std::fs::write(&release, b"go").unwrap();
    app.wait_for_text("#unlock h2", "Choose a passphrase for your record")
        .await;
    app.wait_for_text("#unlock", "no keyring").await;
    // Emergency needs no record.
    app.go("#/emergency").await;
    app.wait_for_text("main", "999").await;
    app.go("#/today").await;
    app.wait_for("#f-unlock-passphrase").await;

    app.type_in("#f-unlock-passphrase", "too short").await;
    app.type_in(
        "#f-unlock-passphraseAgain",
        &format!("too short{}", char::from(Key::Enter)),
    )
    .await;
    app.wait_for_text("#error-unlock-passphrase", "at least 10 characters")
        .await;
    app.screenshots_of("unlock-choose", Some("#unlock")).await;
    app.retype("#f-unlock-passphrase", "Lantern orchard velvet")
        .await;
    app.retype(
        "#f-unlock-passphraseAgain",
        &format!("Lantern orchard velvet{}", char::from(Key::Enter)),
    )
    .await;
    app.wait_until_gone(
        "unlock",
        "the record did not open after the passphrase was chosen",
    )
    .await;
    app.wait_for_text(".cards", "0 of 36 done").await;
    app.go("#/advice/cyber-hygiene").await;
    app.wait_for_text("main h1", "Be cyber aware").await;
    app.type_in("#item-two-step-verification", " ").await;
    app.wait_for_text(".section-progress", "1 of 5 done").await;
    app.quit(driver).await;
    let key_file = std::fs::read_to_string(data.path().join("record-key.json")).unwrap();
    assert!(
        key_file.contains("argon2id") && !key_file.contains("Lantern"),
        "{key_file}"
    );

    // The next start asks for it; a wrong one is refused next to the field.
    let app = App::launch(driver).await;
    app.wait_for_text("#unlock h2", "Your record is locked")
        .await;
    app.type_in(
        "#f-unlock-passphrase",
        &format!("Lantern orchard velvel{}", char::from(Key::Enter)),
    )
    .await;
    app.wait_for_text("#error-unlock-passphrase", "does not unlock your record")
        .await;
    app.screenshots_of("unlock-wrong", Some("#unlock")).await;
    app.retype(
        "#f-unlock-passphrase",
        &format!("Lantern orchard velvet{}", char::from(Key::Enter)),
    )
    .await;
    app.go("#/advice").await;
    app.wait_for_text(
        "a[href='#/advice/cyber-hygiene'] .progress-label",
        "1 of 5 done",
    )
    .await;
    app.screenshots("unlocked-advice").await;
    app.quit(driver).await;
}

/// Back the record up from its screen, then restore it into a new install on the same
/// desktop, checked afterwards.
#[tokio::test]
async fn a_backup_made_on_its_screen_restores_into_a_new_install() {
    let _one = serial();
    let desktop = Desktop::start();
    let (first, second, out) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let enter = char::from(Key::Enter);
    {
        let driver = &Driver::start(&desktop, first.path());
        let app = App::launch(driver).await;
        app.go("#/advice/cyber-hygiene").await;
        app.wait_for_text("main h1", "Be cyber aware").await;
        app.type_in("#item-two-step-verification", " ").await;
        app.wait_for_text(".section-progress", "1 of 5 done").await;
        app.go("#/today").await;
        app.wait_for_text("#backup-card", "No backup yet").await;
        app.click("#backup-card a").await;
        app.wait_for_text("main h1", "Backup").await;
        app.retype("#f-folder", &out.path().display().to_string())
            .await;
        app.type_in("#f-backup-passphrase", "harbour pencil meadow")
            .await;
        app.type_in(
            "#f-backup-passphraseAgain",
            &format!("harbour pencil{enter}"),
        )
        .await;
        app.wait_for_text("#error-backup-passphraseAgain", "not the same")
            .await;
        app.retype(
            "#f-backup-passphraseAgain",
            &format!("harbour pencil meadow{enter}"),
        )
        .await;
        app.wait_for_text("#backup-made", "Backup made").await;
        app.wait_for_text("#backup-last", "Last backup").await;
        app.screenshots_of("backup-made", Some("#backup-made"))
            .await;
        app.quit(driver).await;
    }
    let backup = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .expect("a backup file")
        .unwrap()
        .path();
    assert!(backup.display().to_string().ends_with(".csbackup"));

    let driver = &Driver::start(&desktop, second.path());
    let app = App::launch(driver).await;
    app.go("#/backup").await;
    app.wait_for_text("main h1", "Backup").await;
    app.type_in("#f-file", &backup.display().to_string()).await;
    app.type_in(
        "#f-restore-passphrase",
        &format!("harbour pencil meadows{enter}"),
    )
    .await;
    app.wait_for_text("#error-restore-passphrase", "does not open the backup")
        .await;
    app.retype(
        "#f-restore-passphrase",
        &format!("harbour pencil meadow{enter}"),
    )
    .await;
    app.wait_for_text("#restore-done", "Restored 0 incidents")
        .await;
    app.wait_for_text("#restore-check", "Checked").await;
    app.screenshots_of("backup-restored", Some("#restore-check"))
        .await;
    app.go("#/advice").await;
    app.wait_for_text(
        "a[href='#/advice/cyber-hygiene'] .progress-label",
        "1 of 5 done",
    )
    .await;
    app.quit(driver).await;
}

/// Turn the screen lock on from Today, lock with the button, see that only the lock screen
/// and the Emergency screen show, unlock with the PIN; and a restart starts locked.
#[tokio::test]
async fn the_screen_lock_hides_the_record_until_the_pin_and_holds_across_a_restart() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let enter = char::from(Key::Enter);
    let app = App::launch(driver).await;
    app.wait_for("#lock-setting").await;
    app.type_in("#f-set-pin", "2468").await;
    app.type_in("#f-set-pinAgain", &format!("2469{enter}"))
        .await;
    app.wait_for_text("#error-set-pinAgain", "not the same")
        .await;
    app.retype("#f-set-pinAgain", &format!("2468{enter}")).await;
    app.wait_for_text("#saved-pin", "The lock is on").await;
    app.wait_for("#lock-button").await;
    app.screenshots_of("lock-setting", Some("#lock-setting"))
        .await;

    app.click("#lock-button").await;
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    app.screenshots("lock-screen").await;
    app.go("#/incidents").await;
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    app.go("#/emergency").await;
    app.wait_for_text("main", "999").await;
    app.go("#/today").await;
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    app.type_in("#f-lock-pin", &format!("1357{enter}")).await;
    app.wait_for_text("#error-lock-pin", "not the PIN").await;
    app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
    app.wait_for_text("main h1", "Today").await;

    // A duress PIN, and a session out: "I'm OK" on the lock screen then asks for a PIN. None
    // is refused by its field; the duress PIN checks in as the PIN would, and stays locked.
    app.type_in("#f-set-duressPin", "8642").await;
    app.type_in("#f-set-duressPinAgain", &format!("8642{enter}"))
        .await;
    app.wait_for_text("#saved-duress-pin", "Saved").await;
    app.go("#/checkins/new").await;
    app.wait_for_text("main h1", "New check-in session").await;
    app.type_in("#f-participants", "Asha, Ben").await;
    app.click(".session-form button[type='submit']").await;
    app.wait_for_text(".timeline", "Started").await;
    app.click("#lock-button").await;
    app.wait_for_text(".locked-sessions", "Out now").await;
    let session_pin = app
        .js("return document.querySelector('.locked-sessions input[type=password]').id")
        .await;
    let session_pin = format!("#{}", session_pin.as_str().unwrap());
    app.click(".locked-sessions button[type='submit']").await;
    app.wait_for_text(".locked-sessions .field-error", "type your PIN to check in")
        .await;
    assert_eq!(
        format!("#{}", app.active_element_id().await),
        session_pin,
        "focus goes to the PIN"
    );
    app.type_in(&session_pin, &format!("8642{enter}")).await;
    app.wait_for_text(".locked-sessions .saved", "Checked in at")
        .await;
    app.screenshots("lock-screen-check-in-pin").await;
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
    app.wait_for_text(".timeline", "Checked in").await;
    app.quit(driver).await;

    let app = App::launch(driver).await;
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
    app.wait_for_text("main h1", "Today").await;
    app.quit(driver).await;
}

/// The window comes up before the record is open. While the record opens, no screen is
/// drawn from it and the record refuses every read; once it is open, a PIN set earlier shows
/// the lock screen first, even on a screen chosen meanwhile.
#[tokio::test]
async fn the_window_comes_before_the_record_and_the_lock_before_either() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    {
        let database = desktop.new_record(data.path());
        campaign_safe_lib::applock::set_pin(&database.conn(), "2468", "2468").unwrap();
    }
    // Opening the record waits for this file, so the test sees the window meanwhile.
    let (driver, release) = Driver::start_holding(&desktop, data.path(), Hold::RecordOpening);
    let driver = &driver;
    let app = App::launch_before_first_screen(driver).await;
    app.wait_for_text("#opening", "Opening your record").await;
    let drawn = app
        .js("return [document.querySelectorAll('main h1').length, !!document.getElementById('upgrading')]")
        .await;
    assert_eq!(
        drawn,
        serde_json::json!([0, false]),
        "[screens drawn, upgrade notice] while opening"
    );
    app.screenshots("record-opening").await;
    // A screen chosen meanwhile is drawn, and says the record is not open yet.
    app.go("#/incidents").await;
    app.wait_for_text("main", "still opening your record").await;

    std::fs::write(&release, b"go").unwrap();
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    let enter = char::from(Key::Enter);
    app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
    app.wait_for_text("main h1", "Incidents").await;
    app.quit(driver).await;
}

/// A keyring user chooses a passphrase instead: the keyring's copy of the key goes, and the
/// next start asks for the passphrase.
#[tokio::test]
async fn the_record_key_can_move_from_the_keyring_to_a_passphrase() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let enter = char::from(Key::Enter);
    let app = App::launch(driver).await;
    app.wait_for("#key-setting form").await;
    app.type_in("#f-key-passphrase", "copper violin harbour")
        .await;
    app.type_in(
        "#f-key-passphraseAgain",
        &format!("copper violin harbour{enter}"),
    )
    .await;
    app.wait_for_text("#key-setting", "opens only with its passphrase")
        .await;
    app.screenshots_of("record-key-setting", Some("#key-setting"))
        .await;
    app.quit(driver).await;
    {
        use campaign_safe_lib::vault::{record_name, Keyring};
        let kept = support::secrets::BusKeyring::on(&harness.desktop().bus)
            .load(&record_name(harness.data_dir()))
            .unwrap();
        assert!(kept.is_none(), "the keyring still holds the record's key");
    }

    let app = App::launch(driver).await;
    app.wait_for_text("#unlock h2", "Your record is locked")
        .await;
    app.type_in(
        "#f-unlock-passphrase",
        &format!("copper violin harbour{enter}"),
    )
    .await;
    app.wait_for_text(".cards", "0 of 36 done").await;
    app.quit(driver).await;
}

/// With a PIN set, the window locks by itself after the idle time (shortened to 3 s for the
/// test).
#[tokio::test]
async fn the_window_locks_itself_after_the_idle_time() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let driver = &Driver::start_with(
        &desktop,
        data.path(),
        &[("CAMPAIGN_SAFE_TEST_IDLE_SECONDS", "3")],
    );
    let enter = char::from(Key::Enter);
    let app = App::launch(driver).await;
    app.wait_for("#lock-setting").await;
    app.type_in("#f-set-pin", "2468").await;
    app.type_in("#f-set-pinAgain", &format!("2468{enter}"))
        .await;
    app.wait_for_text("#saved-pin", "The lock is on").await;
    // Nobody touches it: locked within the wait, with nothing of the record left on screen.
    app.wait_for_text("main h1", "Campaign Safe is locked")
        .await;
    assert!(
        app.js("return document.getElementById('lock-setting') === null")
            .await
            == true
    );
    app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
    app.wait_for_text("main h1", "Today").await;

    // A form half typed when the lock falls is there again after unlocking, and shows
    // nothing of itself while locked.
    for (hash, heading, field, words) in [
        (
            "#/incidents/new",
            "Record an incident",
            "#f-whatHappened",
            "He said he knows where I live, at the gate",
        ),
        (
            "#/plans/new",
            "Plan a canvass",
            "#f-title",
            "Ward 7, Sunday afternoon",
        ),
    ] {
        app.go(hash).await;
        app.wait_for_text("main h1", heading).await;
        app.type_in(field, words).await;
        app.wait_for_text("main h1", "Campaign Safe is locked")
            .await;
        let shown = app
            .js(&format!(
                "return document.body.innerText.includes({words:?}) || \
                 [...document.querySelectorAll('input, textarea')].some((i) => i.value.includes({words:?}))"
            ))
            .await;
        assert_eq!(
            shown,
            serde_json::Value::Bool(false),
            "{hash}: the half-typed form shows while locked"
        );
        app.wait_for_text("#form-kept", "What you were typing is kept")
            .await;
        if hash == "#/incidents/new" {
            app.screenshots("locked-with-a-form-kept").await;
        }
        app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
        app.wait_for_text("main h1", heading).await;
        app.wait_for_value(field, words).await;
        assert_eq!(
            app.active_element_id().await,
            field.trim_start_matches('#'),
            "{hash}: focus goes back to where it was"
        );
    }
    app.screenshots("unlocked-form-kept").await;
    app.quit(driver).await;
}
