//! The first screen's one question: the same answers as the commands it stands for, and
//! nothing of the record while the app is locked.

use serde_json::{json, Value};

use super::{invoke, session_args, start_app};

/// Each of Today's parts, as `{ value }`, must equal what its own command answers.
fn assert_same_as_asked_alone(app: &tauri::App<tauri::test::MockRuntime>, first: &Value) {
    for (part, command) in [
        ("advice", "advice_list"),
        ("backup", "backup_status"),
        ("followUps", "aftercare_follow_ups"),
        ("review", "review_status"),
        ("active", "checkins_active"),
    ] {
        let alone = invoke(app, command, json!({})).expect(command);
        assert_eq!(first["today"][part]["value"], alone, "{part} ({command})");
    }
    assert_eq!(
        first["timeZone"]["value"],
        invoke(app, "settings_time_zone", json!({})).unwrap()
    );
    assert_eq!(
        first["lock"]["value"],
        invoke(app, "lock_status", json!({})).unwrap()
    );
    assert_eq!(
        first["status"],
        invoke(app, "app_status", json!({})).unwrap()
    );
}

#[test]
fn the_first_screen_is_answered_at_once_as_each_command_would_answer_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let empty = invoke(&app, "first_screen", json!({})).unwrap();
    assert_eq!(empty["status"]["opening"], false, "{empty}");
    assert_eq!(empty["today"]["active"]["value"], json!([]), "{empty}");
    assert_same_as_asked_alone(&app, &empty);

    invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T15:00:00Z"),
    )
    .unwrap();
    let one_out = invoke(&app, "first_screen", json!({})).unwrap();
    assert_eq!(
        one_out["today"]["active"]["value"].as_array().map(Vec::len),
        Some(1)
    );
    assert_same_as_asked_alone(&app, &one_out);
}

#[test]
fn locked_the_first_screen_gives_the_lock_and_nothing_of_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    invoke(
        &app,
        "lock_set_pin",
        json!({"pin": "2468", "pinAgain": "2468"}),
    )
    .unwrap();
    invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T15:00:00Z"),
    )
    .unwrap();
    invoke(&app, "lock_now", json!({})).unwrap();

    let locked = invoke(&app, "first_screen", json!({})).unwrap();
    assert_eq!(locked["lock"]["value"]["locked"], true, "{locked}");
    assert_eq!(locked["today"], Value::Null, "{locked}");
    assert!(!locked.to_string().contains("Ward"), "{locked}");

    // Unlocked, Today's answers come with it again.
    invoke(&app, "lock_unlock", json!({"pin": "2468"})).unwrap();
    let open = invoke(&app, "first_screen", json!({})).unwrap();
    assert_eq!(open["lock"]["value"]["locked"], false, "{open}");
    assert_same_as_asked_alone(&app, &open);
}
