//! End-to-end: the incident log in the real window. Quick-capture an incident, find it by
//! search, amend it, see both versions, attach a file, check the log and export a pack,
//! then check the pack's files on disk. Screenshots go to target/e2e/.

#![allow(clippy::await_holding_lock)]

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use support::{serial, App, Harness};

async fn submit(app: &App, form_css: &str) {
    app.click(&format!("{form_css} button[type='submit']"))
        .await;
}

#[tokio::test]
async fn record_find_amend_attach_and_export_an_incident() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;

    app.go("#/incidents").await;
    app.wait_for_text("main h1", "Incidents").await;
    app.wait_for_text(".incident-results", "No incidents recorded yet")
        .await;

    // Quick capture: saving with nothing typed names the field and keeps the form.
    app.click("a[href='#/incidents/new']").await;
    app.wait_for_text("main h1", "Record an incident").await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text("#error-whatHappened", "What happened")
        .await;
    app.screenshots("incident-quick-form").await;
    let words = "He said \"we know where you live\" and <b>laughed</b>";
    app.type_in("#f-whatHappened", words).await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text("main h1", "Other").await;
    // Markup typed by the user is shown as text.
    assert_eq!(app.text("dl.record .words").await, words);
    assert_eq!(
        app.js("return document.querySelectorAll('main b').length")
            .await,
        0
    );

    // Find it by search.
    app.go("#/incidents").await;
    app.wait_for_text("main h1", "Incidents").await;
    app.type_in("#f-text", "where you live").await;
    app.wait_for_text(".incident-list .incident-summary", "we know where you live")
        .await;
    app.retype("#f-text", "nothing like this").await;
    app.wait_for_text(".incident-results", "Nothing matches")
        .await;
    app.retype("#f-text", "know").await;
    app.wait_for_text(".incident-list", "Not reported yet")
        .await;
    app.screenshots("incidents-list").await;

    // Amend it in the full form: a new version, with the first kept.
    app.click(".incident-list .card-title a").await;
    app.wait_for_text("main h1", "Other").await;
    app.click("a[href$='/edit']").await;
    app.wait_for_text("main h1", "Edit incident").await;
    app.js("const s = document.querySelector('#f-category'); s.value = 'doorstep-abuse';")
        .await;
    // A bad postcode is refused next to its field; what was typed stays.
    app.type_in("#f-postcode", "not a postcode").await;
    app.type_in("#f-impact", "Shaken; will not canvass that street alone")
        .await;
    app.click("input[name='flags'][value='repeat']").await;
    app.type_in("#f-reason", "Added the impact").await;
    // A person, remembered so later incidents can link to them.
    app.click("[data-rows='people'] + button").await;
    app.type_in("[id='f-people[0].name']", "Tall man in a red van")
        .await;
    app.js("document.querySelector(\"[id='f-people[0].personId']\").value = 'new'")
        .await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text("#error-postcode", "UK postcode").await;
    assert_eq!(
        app.js("return document.querySelector('#f-impact').value")
            .await,
        "Shaken; will not canvass that street alone"
    );
    app.screenshots("incident-full-form").await;
    app.retype("#f-postcode", "sw1a 1aa").await;
    // Online details: a post's address that is not a web address is refused by name, and
    // the folded section opens to show it.
    app.click("details.online > summary").await;
    app.type_in("[id='f-online.platform']", "Social Example")
        .await;
    app.type_in("[id='f-online.postAddress']", "not a web address")
        .await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text(
        "[id='error-online.postAddress']",
        "Post’s address: that is not a web address",
    )
    .await;
    let long_post = format!(
        "https://social.example/@someone/status/{}?utm_campaign=the-end",
        "9".repeat(120)
    );
    app.retype("[id='f-online.postAddress']", &long_post).await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text("main h1", "Doorstep abuse or hostility")
        .await;
    app.wait_for_text(".history h2", "History (2 versions)")
        .await;
    let shown = app.text("dl.record").await;
    assert!(
        shown.contains("Social Example") && shown.contains("utm_campaign=the-end"),
        "{shown}"
    );
    assert_no_sideways_scroll(&app, "the detail with a long post address").await;
    let history = app.text(".versions").await;
    assert!(
        history.contains("Version 2: Amended") && history.contains("Added the impact"),
        "{history}"
    );
    assert!(history.contains("Version 1: Recorded"), "{history}");
    assert!(app.text("dl.record").await.contains("SW1A 1AA"));
    app.wait_for_text("dl.record", "linked: Tall man in a red van, 1 incident(s)")
        .await;

    // Attach a file through the window's file chooser.
    let photo = harness.data_dir().join("doorstep photo.png");
    std::fs::write(&photo, b"not really a png").unwrap();
    app.type_in("#f-file", &photo.display().to_string()).await;
    app.wait_for_text(".attachments", "doorstep photo.png")
        .await;
    app.wait_for_text(".history h2", "History (3 versions)")
        .await;
    app.js("document.querySelectorAll('.versions details').forEach((d) => { d.open = true; })")
        .await;
    app.screenshots("incident-detail").await;

    // The person's own view lists their incidents.
    app.click("dl.record a[href^='#/incidents/person/']").await;
    app.wait_for_text("main h1", "Tall man in a red van").await;
    app.wait_for_text(".incident-list", "Doorstep abuse or hostility")
        .await;

    // The log checks out.
    app.go("#/incidents").await;
    app.wait_for_text("main h1", "Incidents").await;
    app.click(".incidents > button.button-secondary").await;
    app.wait_for_text(".check-result", "check out").await;
    // With it, the record's head to write down (issue 24): versions and 16 hex digits.
    let head = app.wait_for_text(".record-head", "Record head now: ").await;
    assert!(head.contains(" versions, "), "{head}");
    app.js("document.querySelector('.record-head').scrollIntoView({ block: 'center' })")
        .await;
    app.screenshots("incidents-record-head").await;

    // Export a pack to a folder the user typed, and check its files.
    let out = tempfile::tempdir().unwrap();
    app.go("#/incidents/export").await;
    app.wait_for_text("main h1", "Evidence pack").await;
    app.retype(
        "#f-folder",
        &out.path().join("missing").display().to_string(),
    )
    .await;
    submit(&app, "form.export-form").await;
    app.wait_for_text("#error-folder", "not a folder that exists")
        .await;
    // The user picks the folder in the desktop's own folder dialog.
    pick_pack_folder(&app, out.path()).await;
    submit(&app, "form.export-form").await;
    app.wait_for_text(
        ".export-result",
        "Pack made with 1 incident(s) and 1 file(s)",
    )
    .await;
    app.screenshots_of("incident-export", Some(".export-result"))
        .await;

    let folder = the_pack_in(out.path());
    let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
    for expected in [
        "Version history",
        "Added the impact",
        "doorstep photo.png",
        "&#60;b&#62;laughed&#60;/b&#62;",
    ] {
        assert!(html.contains(expected), "report.html lacks {expected}");
    }
    let csv = std::fs::read_to_string(folder.join("incidents.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| !l.is_empty()).count(), 2, "{csv}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("incidents.json")).unwrap()).unwrap();
    assert_eq!(
        json["incidents"][0]["versions"].as_array().unwrap().len(),
        3
    );
    let copies: Vec<_> = std::fs::read_dir(folder.join("attachments"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(
        std::fs::read(copies[0].path()).unwrap(),
        b"not really a png"
    );
    assert_eq!(
        std::fs::read(&photo).unwrap(),
        b"not really a png",
        "the original is untouched"
    );

    // The list and the detail in high contrast.
    app.go("#/today").await;
    app.wait_for_text("main h1", "Today").await;
    app.click("#display-choice option[value='contrast']").await;
    app.go("#/incidents").await;
    app.wait_for_text(".incident-list", "Doorstep abuse or hostility")
        .await;
    app.screenshots("incidents-list-high-contrast").await;
    app.click(".incident-list .card-title a").await;
    app.wait_for_text(".history h2", "History (3 versions)")
        .await;
    app.screenshots("incident-detail-high-contrast").await;

    app.quit(driver).await;

    // The log says what happened to the app, never what happened to the user, nor the key.
    let logs = harness.logs();
    assert!(logs.contains("database open"), "the log was read: {logs}");
    let key = harness.desktop().record_key(harness.data_dir());
    let key_hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    for secret in ["we know where you live", "laughed", key_hex.as_str()] {
        assert!(
            !logs.to_lowercase().contains(&secret.to_lowercase()),
            "the log holds {secret:?}"
        );
    }
}

#[tokio::test]
async fn the_full_form_works_from_the_keyboard_at_phone_width() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;
    app.resize(360, 740).await;
    app.go("#/incidents/new/full").await;
    app.wait_for_text("main h1", "Record an incident").await;

    // From the heading, every control is reached in order, none hides under the bars,
    // and each shows its ring.
    assert_eq!(app.active_element_id().await, "H1");
    let expected = app.controls_after_heading().await;
    let stops = app.tab_to("Save").await;
    assert_eq!(stops, expected);
    // And back up again from Save, clear of the sticky top bar this time.
    let mut back = app.shift_tab_to("f-whatHappened").await;
    back.reverse();
    assert_eq!(back, expected[..expected.len() - 1]);
    app.tab_to("Save").await;
    app.screenshot("incident-form-keyboard-on-save").await;

    // Saving with nothing typed: the message is shown and focus goes to the field.
    app.real_keys("Return").await;
    app.wait_for_text("#error-whatHappened", "What happened")
        .await;
    let state = app.focus_state().await;
    assert_eq!(state["name"], "f-whatHappened");
    assert_eq!(state["clear"], true);
    app.screenshot("incident-form-keyboard-error").await;

    app.real_type("Leaflet pushed back through the door, torn up")
        .await;
    app.tab_to("f-category").await;
    app.real_type("Doorstep").await;
    app.tab_to("Save").await;
    app.real_keys("Return").await;
    app.wait_for_text("main h1", "Doorstep abuse or hostility")
        .await;
    assert_eq!(
        app.text("dl.record .words").await,
        "Leaflet pushed back through the door, torn up"
    );

    // A long unbroken word (a pasted address) wraps: the detail and the list stay as wide
    // as the window.
    let long_word = format!("https://example.com/{}", "x".repeat(300));
    quick_record(&app, &long_word).await;
    assert_no_sideways_scroll(&app, "the detail").await;
    app.go("#/incidents").await;
    app.wait_for_text(".incident-list", "https://example.com/")
        .await;
    assert_no_sideways_scroll(&app, "the list").await;
    app.screenshot("incident-list-long-word").await;
    app.quit(driver).await;
}

async fn assert_no_sideways_scroll(app: &App, what: &str) {
    let widths = app
        .js("return [document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "{what} is wider than the window: {widths}"
    );
}

/// Picks `folder` for the pack in the desktop's own folder dialog.
async fn pick_pack_folder(app: &App, folder: &std::path::Path) {
    app.click("#f-folder + .path-picker").await;
    app.answer_native_dialog("Choose where the evidence pack goes", folder)
        .await;
    app.wait_for_value("#f-folder", &folder.display().to_string())
        .await;
}

/// The one pack folder the export made in `out`.
fn the_pack_in(out: &std::path::Path) -> std::path::PathBuf {
    let mut folders: Vec<_> = std::fs::read_dir(out).unwrap().flatten().collect();
    assert_eq!(folders.len(), 1, "one pack folder in {}", out.display());
    folders.remove(0).path()
}

/// Records an incident through the quick form and returns its screen's address.
async fn quick_record(app: &App, words: &str) -> String {
    app.go("#/incidents/new").await;
    app.wait_for_text("main h1", "Record an incident").await;
    app.retype("#f-whatHappened", words).await;
    submit(app, "form.incident-form").await;
    app.wait_for_text("dl.record .words", words).await;
    app.js("return location.hash")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn withdraw_erase_and_import_a_pack_from_the_screens() {
    let _one = serial();
    let harness = Harness::start();
    let driver = &harness.driver;
    let app = App::launch(driver).await;
    let shouted = quick_record(&app, "Shouted at across the road").await;
    let posted = quick_record(&app, "Posted our home address online").await;

    // A pack of both, made before anything changes.
    let out = tempfile::tempdir().unwrap();
    app.go("#/incidents/export").await;
    app.wait_for_text("main h1", "Evidence pack").await;
    pick_pack_folder(&app, out.path()).await;
    submit(&app, "form.export-form").await;
    app.wait_for_text(".export-result", "Pack made with 2 incident(s)")
        .await;
    let pack = the_pack_in(out.path());

    // Withdraw needs a reason; then the incident stays, readable and unchangeable.
    app.go(&shouted).await;
    app.wait_for_text("main h1", "Other").await;
    app.click("details.danger summary").await;
    submit(&app, "form.withdraw-form").await;
    app.wait_for_text("form.withdraw-form [data-error-for='reason']", "say why")
        .await;
    app.retype("#f-withdraw-reason", "Recorded twice by mistake")
        .await;
    submit(&app, "form.withdraw-form").await;
    app.wait_for_text("main .problem", "Withdrawn").await;
    app.wait_for_text(".history", "Recorded twice by mistake")
        .await;
    assert_eq!(
        app.js("return document.querySelectorAll(\"a[href$='/edit']\").length")
            .await,
        0,
        "a withdrawn incident cannot be edited"
    );
    app.screenshots("incident-withdrawn").await;

    // Erase needs a reason and ERASE typed; then only a tombstone stays.
    app.go(&posted).await;
    app.wait_for_text("main h1", "Other").await;
    app.click("details.danger:last-of-type summary").await;
    app.retype("#f-erase-reason", "Data-protection request")
        .await;
    app.retype("#f-confirmation", "erase it").await;
    submit(&app, "form.erase-form").await;
    app.wait_for_text("[data-error-for='confirmation']", "ERASE")
        .await;
    app.screenshots_of(
        "incident-erase-form",
        Some("[data-error-for='confirmation']"),
    )
    .await;
    app.retype("#f-confirmation", "ERASE").await;
    submit(&app, "form.erase-form").await;
    app.wait_for_text("main h1", "Erased incident").await;
    app.wait_for_text(".history", "Content erased.").await;
    assert!(!app.text("main").await.contains("home address"));
    app.screenshots("incident-erased").await;

    // The older pack, picked in the desktop's own file dialog, brings nothing back.
    app.go("#/incidents/export").await;
    app.wait_for_text("main h1", "Evidence pack").await;
    app.click("#f-file + .path-picker").await;
    let json = pack.join("incidents.json");
    app.answer_native_dialog("Choose the pack", &json).await;
    app.wait_for_value("#f-file", &json.display().to_string())
        .await;
    submit(&app, "form.import-form").await;
    app.wait_for_text(".import-result", "0 new, 0 updated, 2 already here")
        .await;
    assert!(!app.text(".import-result").await.contains("null"));
    app.screenshots_of("incident-import", Some(".import-result"))
        .await;
    app.go(&posted).await;
    app.wait_for_text("main h1", "Erased incident").await;
    assert!(!app.text("main").await.contains("home address"));
    app.quit(driver).await;
}

/// On a laptop set to US English in New York, a time typed as 23:30 on 27/11/2026 is kept as
/// 23:30 UK time: stored so, shown so, and shown so again in the edit form.
#[tokio::test]
async fn dates_and_times_are_uk_whatever_the_laptop_is_set_to() {
    let _one = serial();
    let data = tempfile::tempdir().unwrap();
    let desktop = support::Desktop::start();
    // The app's clock is set to 1 December 2026 so the 27th is past whatever this machine's
    // clock says.
    let app_now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 1, 12, 0, 0).unwrap();
    let offset = (app_now - chrono::Utc::now()).num_minutes().to_string();
    let driver = &support::Driver::start_with(
        &desktop,
        data.path(),
        &[
            ("LANG", "en_US.UTF-8"),
            ("LC_ALL", "en_US.UTF-8"),
            ("TZ", "America/New_York"),
            ("CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES", offset.as_str()),
        ],
    );
    let app = App::launch(driver).await;
    app.go("#/incidents/new").await;
    app.wait_for_text("main h1", "Record an incident").await;
    let shown = app
        .js("return document.querySelector('#f-occurredFrom').value")
        .await;
    assert!(
        shown
            .as_str()
            .is_some_and(|v| v.len() == 10 && v.as_bytes()[2] == b'/'),
        "day/month/year by default: {shown}"
    );
    // What cannot be read is refused next to the field, by its label.
    app.retype("#f-occurredFrom", "11/31/2026").await;
    app.type_in("#f-whatHappened", "Leaflets torn up at the gate")
        .await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text(
        "#error-occurredFrom",
        "When: type the date as day/month/year",
    )
    .await;
    app.retype("#f-occurredFrom", "27/11/2026").await;
    app.retype("#f-occurredFrom-time", "23:30").await;
    submit(&app, "form.incident-form").await;
    app.wait_for_text("main h1", "Other").await;
    app.wait_for_text("dl.record", "27 Nov 2026, 23:30").await;
    app.screenshots("incident-detail-us-laptop").await;

    app.click("a[href$='/edit']").await;
    app.wait_for_text("main h1", "Edit incident").await;
    app.wait_for_value("#f-occurredFrom", "27/11/2026").await;
    app.wait_for_value("#f-occurredFrom-time", "23:30").await;
    app.screenshots("incident-edit-us-laptop").await;

    // Someone away from the UK chooses the device's zone: the same incident is now shown,
    // and edited, at 18:30 New York time, and the choice is kept.
    app.go("#/today").await;
    app.wait_for_text("main h1", "Today").await;
    app.wait_for_text("#f-timeZone", "America/New York").await;
    app.click("#f-timeZone option[value='device']").await;
    app.wait_for_text("#saved-timeZone", "time in America/New York")
        .await;
    app.go("#/incidents").await;
    app.wait_for_text("main", "27 Nov 2026, 18:30").await;
    app.click("main .card-title a").await;
    app.wait_for_text("dl.record", "27 Nov 2026, 18:30").await;
    app.click("a[href$='/edit']").await;
    app.wait_for_text("main h1", "Edit incident").await;
    app.wait_for_value("#f-occurredFrom-time", "18:30").await;
    app.wait_for_text("main", "24-hour clock, time in America/New York")
        .await;
    app.screenshots("incident-edit-device-zone").await;
    app.go("#/today").await;
    app.wait_for("#f-timeZone").await;
    app.screenshots_of("time-zone-setting", Some("#f-timeZone"))
        .await;
    app.click("#f-timeZone option[value='uk']").await;
    app.wait_for_text("#saved-timeZone", "UK time").await;
    app.go("#/incidents").await;
    app.wait_for_text("main", "27 Nov 2026, 23:30").await;
    app.quit(driver).await;

    // Stored as 23:30 in UTC, which is UK time in November.
    let stored: i64 = desktop
        .open_record(data.path())
        .query_row("SELECT occurred_from FROM incident", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored,
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 23, 30, 0)
            .unwrap()
            .timestamp_millis()
    );
}
