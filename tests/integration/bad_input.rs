//! Bad input through the app's commands: one rule of plausible dates in every form, hidden
//! characters in every kind of text, and characters that reorder what is shown.

use serde_json::{json, Value};

use super::{attach, invoke, session_args, start_app};

/// The refusal's field and message; the command must fail as bad input.
fn refused(app: &tauri::App<tauri::test::MockRuntime>, cmd: &str, args: Value) -> (String, String) {
    let error = invoke(app, cmd, args).unwrap_err();
    assert_eq!(error["code"], "validation", "{cmd}: {error}");
    (
        error["field"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn plan(date: &str) -> Value {
    json!({"plan": {
        "title": "Ward 5", "ward": "Ward 5", "streets": ["Elm Road"], "postcodes": [], "walkList": "",
        "town": "", "date": date, "startTime": "13:00", "endTime": "15:00", "meetingPoint": "",
        "pairs": ["Asha and Ben"], "transport": "", "vehicleRegistration": "", "kit": "",
        "coordinator": "", "escalation": [], "checkInMinutes": 30, "risks": []}})
}

#[test]
fn implausible_dates_are_refused_in_every_form_in_its_own_words() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    // The tests' clock: 25 November 2026, noon.
    let incident = |from: &str| json!({"incident": {"occurredFrom": from, "category": "phone-call", "whatHappened": "Call"}});
    for (from, words) in [
        (
            "1989-12-31T12:00:00Z",
            "When it happened: that is before 1990",
        ),
        (
            "0001-01-01T00:00:00Z",
            "When it happened: that is before 1990",
        ),
        (
            "2026-11-26T13:00:00Z",
            "When it happened: that is more than a day in the future",
        ),
        (
            "9999-12-31T23:59:59Z",
            "When it happened: that is more than a day in the future",
        ),
    ] {
        let (field, message) = refused(&app, "incidents_record", incident(from));
        assert_eq!(field, "occurredFrom", "{from}");
        assert!(message.starts_with(words), "{from}: {message}");
    }
    // Within a day ahead is taken (a clock a little out, a time zone).
    invoke(&app, "incidents_record", incident("2026-11-26T11:00:00Z")).unwrap();
    let reported = json!({"incident": {"occurredFrom": "2026-11-25T11:00:00Z", "category": "phone-call",
        "whatHappened": "Call", "reports": [{"to": "police-101", "on": "2062-01-01", "reference": "", "followUp": "waiting"}]}});
    let (field, message) = refused(&app, "incidents_record", reported);
    assert_eq!(field, "reports[0].on");
    assert!(
        message.starts_with("Date reported: that is more than a day in the future"),
        "{message}"
    );

    for (date, words) in [
        ("2026-11-23", "Date: that is more than a day ago"),
        ("2029-01-01", "Date: that is more than two years ahead"),
    ] {
        let (field, message) = refused(&app, "plans_create", plan(date));
        assert_eq!(field, "date", "{date}");
        assert!(message.starts_with(words), "{date}: {message}");
    }
    invoke(&app, "plans_create", plan("2026-11-24")).unwrap();

    let (field, message) = refused(
        &app,
        "checkins_start",
        session_args(Some(30), "2029-06-01T12:00:00Z"),
    );
    assert_eq!(field, "endsAt");
    assert!(message.contains("more than two years ahead"), "{message}");

    let door = |review: &str| {
        json!({"entry": {"house": "9", "street": "Oak Avenue", "postcode": "", "reason": "other",
        "note": "", "addedBy": "Sam", "reviewOn": review, "incidentId": null}})
    };
    let (field, message) = refused(&app, "dnk_add", door("2032-01-01"));
    assert_eq!(field, "reviewOn");
    assert_eq!(message, "Review on: choose a date within five years.");
    let added = invoke(&app, "dnk_add", door("2027-05-07")).unwrap();
    let id = added["entries"][0]["id"].clone();
    let (field, message) = refused(
        &app,
        "dnk_keep",
        json!({"entryId": id, "reviewOn": "2062-05-07"}),
    );
    assert_eq!(field, "reviewOn");
    assert_eq!(message, "Review on: choose a date within five years.");
    refused(
        &app,
        "dnk_keep",
        json!({"entryId": id, "reviewOn": "2026-11-01"}),
    );
}

#[test]
fn hidden_and_reordering_characters_are_refused_or_shown_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let (field, message) = refused(&app, "sos_add_device", json!({"model": "iPhone\u{0}13"}));
    assert_eq!(field, "model");
    assert!(
        message.starts_with("Your phone or watch model: this has a hidden"),
        "{message}"
    );
    refused(&app, "sos_resolve", json!({"model": "Pixel\u{0} 7"}));

    // Text that would show reversed: refused in titles, streets and names.
    let reversed = "Ward 3 \u{202e}daor mlE";
    let mut session = session_args(Some(30), "2026-11-25T18:00:00Z");
    session["session"]["title"] = json!(reversed);
    let (field, message) = refused(&app, "checkins_start", session);
    assert_eq!(field, "title");
    assert!(message.contains("reverses the text"), "{message}");
    for character in [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}',
    ] {
        let door = json!({"entry": {"house": "9", "street": format!("Oak{character} Avenue"), "postcode": "",
            "reason": "other", "note": "", "addedBy": "Sam", "reviewOn": null, "incidentId": null}});
        assert_eq!(
            refused(&app, "dnk_add", door).0,
            "street",
            "U+{:04X}",
            character as u32
        );
    }
    let incident = json!({"incident": {"occurredFrom": "2026-11-25T11:00:00Z", "category": "phone-call",
        "whatHappened": "Call", "location": "14 \u{2067}Elm Road"}});
    assert_eq!(refused(&app, "incidents_record", incident).0, "location");

    // A file's name comes from the disk and is kept, with the reordering written out, so
    // "photo\u{202e}gpj.exe" never shows as "photoexe.jpg".
    let recorded = invoke(
        &app,
        "incidents_record",
        json!({"incident": {"occurredFrom": "2026-11-25T11:00:00Z",
        "category": "phone-call", "whatHappened": "Call"}}),
    )
    .unwrap();
    let id = recorded["id"].as_str().unwrap().to_owned();
    let attached = attach(&app, &id, "photo%E2%80%AEgpj.exe", b"not really a photo").unwrap();
    assert_eq!(
        attached["current"]["attachments"][0]["originalName"],
        "photo[U+202E]gpj.exe"
    );
}
