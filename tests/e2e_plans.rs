//! End-to-end: the seven principles as a workflow in the real window. The do-not-knock
//! list (an entry typed in, the party's CSV refused with a problem per row, then imported),
//! a plan whose area has an earlier incident and a do-not-knock door (both in its risk
//! check), started as one session per pair; a session ended and debriefed; the follow-up on
//! Today until done. Screenshots: target/e2e/do-not-knock-*, plan-*, debrief-*.

#![allow(clippy::await_holding_lock)]

#[allow(dead_code)] // Each test binary uses its own part of the shared support.
mod support;

use chrono::{Duration, Utc};
use fantoccini::key::Key;

use campaign_safe_lib::donotknock::{self, EntryInput};
use campaign_safe_lib::incidents::model::IncidentInput;
use support::{serial, App, Desktop, Driver};

/// WebDriver drops "\n"; a new line in a text area is typed with the Enter key.
const ENTER: char = '\u{E007}';

async fn submit(app: &App, css: &str) {
    app.click(css).await;
}

/// The plan runs from 00:01 to 23:59 UK time today; in the last minutes of a UK day it
/// could end before it starts, so the test begins in the next day instead.
async fn avoid_midnight() {
    use chrono::Timelike;
    let uk = Utc::now().with_timezone(&chrono_tz::Europe::London);
    if uk.hour() == 23 && uk.minute() >= 50 {
        let left = (60 - uk.minute() as u64) * 60 + 30;
        tokio::time::sleep(std::time::Duration::from_secs(left)).await;
    }
}

/// From the heading, real Tab reaches every control in order, at phone and laptop width.
async fn walk_with_the_keyboard(app: &App, what: &str) {
    for (width, height) in [(360, 740), (1280, 800)] {
        app.resize(width, height).await;
        app.js("document.querySelector('main h1').focus()").await;
        let expected = app.controls_after_heading().await;
        let stops = app.tab_through_page().await;
        assert_eq!(stops, expected, "Tab order on {what} at {width} px");
    }
}

/// An incident outside a door on Elm Road a fortnight ago, and a dog on Oak Avenue.
fn seed(desktop: &Desktop, data: &std::path::Path) {
    let database = desktop.new_record(data);
    let mut conn = database.conn();
    let earlier: IncidentInput = serde_json::from_value(serde_json::json!({
        "occurredFrom": (Utc::now() - Duration::days(14)).to_rfc3339(),
        "category": "doorstep-abuse",
        "location": "Outside 14 Elm Road",
        "whatHappened": "Shouted at Sam and followed us to the corner",
    }))
    .unwrap();
    campaign_safe_lib::incidents::record(&mut conn, &earlier, Utc::now()).unwrap();
    donotknock::add(
        &conn,
        &EntryInput {
            house: "9".into(),
            street: "Oak Avenue".into(),
            reason: "aggressive-dog".into(),
            note: "Loose in the front garden".into(),
            added_by: "Sam".into(),
            ..EntryInput::default()
        },
        Utc::now(),
        &campaign_safe_lib::donotknock::NoDoorSink,
    )
    .unwrap();
}

#[tokio::test]
async fn plan_a_canvass_see_its_risks_start_it_end_a_session_and_debrief() {
    let _one = serial();
    avoid_midnight().await;
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    seed(&desktop, data.path());
    let printed = files.path().join("briefing.pdf");
    let print_to = printed.display().to_string();
    let driver = &Driver::start_with(
        &desktop,
        data.path(),
        &[("CAMPAIGN_SAFE_TEST_PRINT_TO", print_to.as_str())],
    );
    let app = App::launch(driver).await;

    // The do-not-knock list: the seeded door, and one typed in.
    app.go("#/do-not-knock").await;
    app.wait_for_text(".dnk-entries", "9 Oak Avenue").await;
    app.type_in("#f-house", "3").await;
    app.type_in("#f-street", "Elm Road").await;
    app.js("document.querySelector('#f-reason').value = 'abusive'")
        .await;
    // "Added by" starts as whoever added the last entry; emptied, it is asked for.
    assert_eq!(
        app.js("return document.querySelector('#f-addedBy').value")
            .await,
        "Sam"
    );
    app.js("document.querySelector('#f-addedBy').value = ''")
        .await;
    submit(&app, "form.dnk-add button[type='submit']").await;
    app.wait_for_text("#error-addedBy", "Added by").await;
    app.type_in("#f-addedBy", "Priya").await;
    submit(&app, "form.dnk-add button[type='submit']").await;
    app.wait_for_text(".dnk-entries", "3 Elm Road").await;
    app.screenshots("do-not-knock-list").await;

    // The party's list: a bad row is named, nothing is imported until it is fixed.
    let csv = files.path().join("party list.csv");
    std::fs::write(
        &csv,
        "House,Street,Postcode,Reason\n21,Mill Lane,AB1 2CD,Abusive\n22,Mill Lane,NOPE,\n",
    )
    .unwrap();
    app.type_in("#f-path", csv.to_str().unwrap()).await;
    submit(&app, "form.dnk-import button[value='preview']").await;
    app.wait_for_text("#dnk-preview-summary", "1 row has a problem")
        .await;
    app.wait_for_text(".dnk-problems", "Row 3, Postcode: “NOPE”")
        .await;
    submit(&app, "form.dnk-import button[value='import']").await;
    app.wait_for_text("#error-path", "nothing was imported")
        .await;
    app.screenshots_of("do-not-knock-import-refused", Some("form.dnk-import"))
        .await;
    assert!(
        !app.text(".dnk-entries").await.contains("Mill Lane"),
        "nothing half-imported"
    );
    std::fs::write(
        &csv,
        "House,Street,Postcode,Reason\n21,Mill Lane,AB1 2CD,Abusive\n22,Mill Lane,,\n",
    )
    .unwrap();
    submit(&app, "form.dnk-import button[value='import']").await;
    app.wait_for_text(".dnk-entries", "22 Mill Lane").await;
    app.wait_for_text("#dnk-list-title", "On the list (4)")
        .await;

    // From the incident at a door: "Add to do-not-knock", filled in from the incident.
    app.go("#/incidents").await;
    app.click(".incident-list .card-title a").await;
    app.click("a[href^='#/do-not-knock/from/']").await;
    app.wait_for_text("#dnk-add-title", "Add the address from the incident")
        .await;
    assert_eq!(
        app.js("return document.querySelector('#f-house').value")
            .await,
        "14"
    );
    assert_eq!(
        app.js("return document.querySelector('#f-street').value")
            .await,
        "Elm Road"
    );
    submit(&app, "form.dnk-add button[type='submit']").await;
    app.wait_for_text("main h1", "Do-not-knock list").await;
    let from_incident = app.wait_for_text(".dnk-entries", "14 Elm Road").await;
    assert!(
        from_incident.contains("From an incident"),
        "{from_incident}"
    );
    app.screenshots_of("do-not-knock-from-incident", Some(".dnk-entries"))
        .await;

    // A plan for today whose area has the earlier incident and the dog.
    app.go("#/plans/new").await;
    app.wait_for_text("main h1", "Plan a canvass").await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .format("%d/%m/%Y")
        .to_string();
    app.type_in("#f-title", "Ward 3 doorstep session").await;
    app.type_in("#f-streets", &format!("Elm Road{ENTER}Oak Avenue"))
        .await;
    app.type_in("#f-date", &today).await;
    app.type_in("#f-startTime", "00:01").await;
    app.type_in("#f-endTime", "23:59").await;
    app.js("document.querySelector('#f-town').value = 'manchester'")
        .await;
    app.type_in("#f-pairs", &format!("Sam and Alex{ENTER}Jo and Lee"))
        .await;
    app.type_in("#f-escalation", "Chris Office 07700 900123")
        .await;
    submit(&app, "form.plan-form button[type='submit']").await;
    app.wait_for_text("#error-escalation", "Who to call, line 1")
        .await;
    app.screenshots("plan-form-error").await;
    app.retype("#f-escalation", "Chris Office, 07700 900123")
        .await;
    submit(&app, "form.plan-form button[type='submit']").await;
    app.wait_for_text("main h1", "Ward 3 doorstep session")
        .await;
    let check = app.wait_for_text("form.risk-check", "Shouted at Sam").await;
    assert!(check.contains("9 Oak Avenue (Aggressive dog)"), "{check}");
    assert!(check.contains("Sunset"), "{check}");
    // The number reads as it was typed, with its space.
    app.wait_for_text("dl.plan-record", "Chris Office, 07700 900123")
        .await;
    app.screenshots_of("plan-risk-check", Some("form.risk-check"))
        .await;
    walk_with_the_keyboard(&app, "the plan").await;
    app.js("document.documentElement.dataset.theme = 'contrast'")
        .await;
    app.screenshots_of("plan-risk-check-high-contrast", Some("form.risk-check"))
        .await;
    app.js("delete document.documentElement.dataset.theme")
        .await;

    // Starting needs an answer to each risk found.
    submit(&app, "form.risk-check button[value='start']").await;
    app.wait_for_text(
        "[id='error-risks.earlier-incidents.action']",
        "What you will do about it",
    )
    .await;
    app.screenshots_of(
        "plan-start-refused",
        Some("[id='error-risks.earlier-incidents.action']"),
    )
    .await;
    app.js(
        "for (const box of document.querySelectorAll('fieldset.risk-present textarea')) box.value = 'Skip number 14 and 9; stay in sight of each other';",
    )
    .await;
    submit(&app, "form.risk-check button[value='start']").await;
    app.wait_for_text("#plan-started", "Started").await;
    app.screenshots("plan-started").await;

    // The one-page briefing, and a copy for next week.
    app.click("a[href$='/briefing']").await;
    let briefing = app
        .wait_for_text("main h1", "Briefing: Ward 3 doorstep session")
        .await;
    assert!(!briefing.is_empty());
    let risks = app.text(".briefing").await;
    assert!(risks.contains("Skip number 14 and 9"), "{risks}");
    app.screenshots("plan-briefing").await;
    // Printed by the app's own Print button, through WebKitGTK's print operation: one A4
    // page, black on white, in the ordinary display and in high contrast.
    print_briefing(&app, &printed, data.path(), "briefing-printed").await;
    let briefing_hash = app.js("return location.hash").await;
    app.go("#/today").await;
    app.click("#display-choice option[value='contrast']").await;
    app.go(briefing_hash.as_str().unwrap_or_default()).await;
    app.wait_for_text("main h1", "Briefing: Ward 3 doorstep session")
        .await;
    print_briefing(
        &app,
        &printed,
        data.path(),
        "briefing-printed-high-contrast",
    )
    .await;
    app.go("#/today").await;
    app.click("#display-choice option[value='auto']").await;
    app.go(briefing_hash.as_str().unwrap_or_default()).await;
    app.wait_for_text("main h1", "Briefing: Ward 3 doorstep session")
        .await;
    app.click(".briefing .back a").await;
    app.click("#plan-copy").await;
    app.wait_for_text("main h1", "Edit the plan").await;
    assert_eq!(
        app.js("return document.querySelector('#f-title').value")
            .await,
        "Ward 3 doorstep session (copy)"
    );

    // One session per pair, shown under Check-ins.
    app.go("#/checkins").await;
    let list = app
        .wait_for_text(".session-list", "Ward 3 doorstep session: Sam and Alex")
        .await;
    assert!(
        list.contains("Ward 3 doorstep session: Jo and Lee"),
        "{list}"
    );
    app.screenshots("plan-sessions").await;

    // A session's page shows the doors not to knock; ending it asks for the debrief.
    app.go("#/plans").await;
    app.wait_for_text(".plan-list", "(copy)").await;
    app.js("[...document.querySelectorAll('.plan-list li')].find(li => li.textContent.includes('started')).querySelector('a').click()").await;
    app.wait_for_text("#plan-started", "session 1").await;
    app.click("#plan-started a").await;
    app.wait_for_text(".session-doors", "9 Oak Avenue").await;
    app.screenshots_of("session-do-not-knock", Some(".session-doors"))
        .await;
    app.click("button[data-act='end']").await;
    app.wait_for_text("main h1", "Debrief: Ward 3 doorstep session")
        .await;
    walk_with_the_keyboard(&app, "the debrief").await;
    submit(&app, "form.debrief-form button[type='submit']").await;
    app.wait_for_text(
        "#error-anythingHappened",
        "Did anything happen? choose yes or no",
    )
    .await;
    app.click("input[name='anythingHappened'][value='no']")
        .await;
    app.click("input[name='anyoneUpset'][value='yes']").await;
    app.type_in("#f-whoIsUpset", "Alex").await;
    app.type_in("#f-whoChecks", "Priya (organiser)").await;
    app.click("input[name='updateDoNotKnock'][value='no']")
        .await;
    app.screenshots("debrief-form").await;
    submit(&app, "form.debrief-form button[type='submit']").await;
    app.wait_for_text("#debrief-saved", "Debrief saved").await;
    // The support contacts say where they come from and when that was checked.
    let support = app
        .wait_for_text("section.support", "Checked against these pages on")
        .await;
    assert!(
        support.contains("Contact a Samaritan (Samaritans)"),
        "{support}"
    );
    app.screenshots("debrief-saved").await;

    // The follow-up stays on Today until it is done.
    app.go("#/today").await;
    app.wait_for_text(
        ".follow-ups",
        "Check on Alex after “Ward 3 doorstep session: Sam and Alex”",
    )
    .await;
    app.screenshots_of("debrief-follow-up-on-today", Some(".follow-ups"))
        .await;
    app.click(".follow-ups button[data-done]").await;
    app.wait_for_text(".follow-ups", "All follow-ups done")
        .await;

    // The periodic review: due on a new record, kept with its date, then not due.
    app.wait_for_text("#review-card", "Time to review emergency arrangements")
        .await;
    app.click("#review-card a").await;
    app.wait_for_text("main h1", "Review emergency arrangements")
        .await;
    submit(&app, "form.review-form button[type='submit']").await;
    app.wait_for_text("#error-checked", "tick at least one")
        .await;
    app.click("#review-contacts").await;
    app.click("#review-escalation").await;
    app.type_in("#f-notes", "Rang every number on the list")
        .await;
    submit(&app, "form.review-form button[type='submit']").await;
    app.wait_for_text(".review-history", "Emergency contacts, Escalation lists")
        .await;
    app.wait_for_text("#review-due", "Next review").await;
    app.screenshots("review-kept").await;
    app.go("#/today").await;
    app.wait_for_text("main h1", "Today").await;
    assert_eq!(
        app.js("return [document.getElementById('review-card'), document.querySelector('.follow-ups')]").await,
        serde_json::json!([null, null]),
        "nothing left to do on Today"
    );
    app.quit(driver).await;
}

/// Presses the briefing's Print button and checks the PDF the print operation wrote: one A4
/// page, mostly white. Its page is saved as target/e2e/`name`-page-1.png to look at.
async fn print_briefing(app: &App, pdf: &std::path::Path, data: &std::path::Path, name: &str) {
    let _ = std::fs::remove_file(pdf);
    // The Print button, pressed from the keyboard, asks for the print dialog. WebKit under
    // WebDriver does not pass the page's window.print() on, so the call is counted here and
    // the debug build's test hook prints as the dialog would.
    app.wait_for_text(".briefing button.button", "Print").await;
    app.js(
        "window.printAsked = 0; window.print = () => { window.printAsked += 1; }; \
         document.querySelector('.briefing button.button').focus(); return true",
    )
    .await;
    app.press(Key::Enter).await;
    assert_eq!(
        app.js("return window.printAsked").await,
        serde_json::json!(1),
        "Enter on the Print button asks for the print dialog once"
    );
    std::fs::write(pdf.with_extension("pdf.print-now"), "").expect("ask the app to print");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let info = loop {
        let out = std::process::Command::new("pdfinfo")
            .arg(pdf)
            .output()
            .expect("pdfinfo must be installed: run `make test`");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && text.contains("Pages:") {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no complete PDF from Print at {}: {}\nthe app logged: {}",
            pdf.display(),
            String::from_utf8_lossy(&out.stderr),
            print_log(data)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let field = |label: &str| {
        info.lines()
            .find(|line| line.starts_with(label))
            .map(|line| line[label.len()..].trim().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        field("Pages:"),
        "1",
        "the briefing prints on one page: {info}"
    );
    assert!(field("Page size:").contains("(A4)"), "A4 paper: {info}");
    let stem = support::screenshot_dir().join(name);
    let made = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile"])
        .arg(pdf)
        .arg(format!("{}-page-1", stem.display()))
        .status()
        .expect("pdftoppm must be installed: run `make test`");
    assert!(made.success(), "pdftoppm");
    let image = format!("{}-page-1.png", stem.display());
    let mean = std::process::Command::new("convert")
        .args([
            &image,
            "-colorspace",
            "Gray",
            "-format",
            "%[fx:mean]",
            "info:",
        ])
        .output()
        .expect("ImageMagick");
    let mean: f64 = String::from_utf8_lossy(&mean.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    assert!(
        mean > 0.9,
        "{name}: the page is black text on white (mean brightness {mean:.2})"
    );
}

/// The lines about printing in the app's logs in `data`, to say why no PDF came.
fn print_log(data: &std::path::Path) -> String {
    std::fs::read_dir(data.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|log| {
            std::fs::read_to_string(log.path())
                .unwrap_or_default()
                .lines()
                .filter(|line| line.contains("print"))
                .map(|line| format!("{line}\n"))
                .collect::<Vec<_>>()
        })
        .collect()
}
