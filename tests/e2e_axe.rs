//! End-to-end: axe-core over every screen of the real window, at phone and laptop width, in
//! the ordinary and the high-contrast display, with the screen lock on (its button in the
//! top bar) and a record that has a session and an incident: no violations anywhere.

#![allow(clippy::await_holding_lock)]

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use fantoccini::key::Key;
use serde_json::json;

use campaign_safe_lib::checkins::Mode;
use campaign_safe_lib::incidents::model::IncidentInput;
use support::{seed_session, serial, App, Harness};

/// Waits until the window shows the screen for `hash`, drawn.
async fn wait_for_screen(app: &App, hash: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let script = format!(
        "const main = document.getElementById('main');
         return main.dataset.hash === {} && !!main.querySelector('h1')",
        json!(hash)
    );
    while app.js(&script).await != true {
        let shown = app
            .js("return document.getElementById('main').dataset.hash")
            .await;
        assert!(
            Instant::now() < deadline,
            "{hash} was not drawn; the window shows {shown}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_screen_passes_axe_at_both_sizes_in_both_displays_with_the_lock_on() {
    let _one = serial();
    let harness = Harness::start();
    let session = seed_session(
        harness.desktop(),
        harness.data_dir(),
        "Ward 3",
        &["Asha", "Ben"],
        Mode::Me,
        5,
    );
    let incident = {
        let database = harness.desktop().new_record(harness.data_dir());
        let now = Utc::now();
        let input: IncidentInput = serde_json::from_value(json!({
            "occurredFrom": (now - chrono::Duration::days(2)).to_rfc3339(),
            "category": "other",
            "whatHappened": "Shouted at on the doorstep of 12 Elm Road.",
        }))
        .expect("an incident");
        let id = campaign_safe_lib::incidents::record(&mut database.conn(), &input, now)
            .expect("recorded");
        id
    };
    let app = App::launch(&harness.driver).await;

    // The lock on, with the longest idle time so it does not fall during the run.
    let enter = char::from(Key::Enter);
    app.wait_for("#lock-setting").await;
    app.type_in("#f-set-pin", "2468").await;
    app.type_in("#f-set-pinAgain", &format!("2468{enter}"))
        .await;
    app.wait_for_text("#saved-pin", "The lock is on").await;
    app.wait_for("#lock-button").await;
    app.click("#f-idleMinutes option:last-child").await;

    let screens = [
        "#/today".to_owned(),
        "#/checkins".into(),
        "#/checkins/new".into(),
        format!("#/checkins/{session}"),
        "#/incidents".into(),
        "#/incidents/new".into(),
        "#/incidents/new/full".into(),
        format!("#/incidents/{incident}"),
        "#/incidents/export".into(),
        "#/sos".into(),
        "#/sos/apple-watch".into(),
        "#/advice".into(),
        "#/advice/routine".into(),
        "#/emergency".into(),
        "#/contacts".into(),
        "#/team".into(),
        "#/backup".into(),
        "#/do-not-knock".into(),
        "#/plans".into(),
        "#/plans/new".into(),
        "#/review".into(),
    ];
    let mut found = Vec::new();
    for display in ["auto", "contrast"] {
        // The display is chosen on Today.
        app.go("#/today").await;
        wait_for_screen(&app, "#/today").await;
        app.click(&format!("#display-choice option[value='{display}']"))
            .await;
        for (width, height) in [(360, 740), (1280, 800)] {
            app.resize(width, height).await;
            for hash in &screens {
                app.go(hash).await;
                wait_for_screen(&app, hash).await;
                for violation in app.axe_violations().await {
                    found.push(format!("{hash} at {width} px ({display}): {violation}"));
                }
            }
            // The lock screen itself.
            app.click("#lock-button").await;
            app.wait_for("#f-lock-pin").await;
            for violation in app.axe_violations().await {
                found.push(format!(
                    "lock screen at {width} px ({display}): {violation}"
                ));
            }
            app.type_in("#f-lock-pin", &format!("2468{enter}")).await;
            app.wait_until_gone("f-lock-pin", "the lock screen stays after the right PIN")
                .await;
        }
    }
    app.go("#/today").await;
    wait_for_screen(&app, "#/today").await;
    app.click("#display-choice option[value='auto']").await;
    app.quit(&harness.driver).await;
    assert!(
        found.is_empty(),
        "axe found {} violations:\n{}",
        found.len(),
        found.join("\n")
    );
}
