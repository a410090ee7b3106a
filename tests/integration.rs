//! Commands called through Tauri's mock runtime with the app's real handler list, real
//! capabilities (from tauri.conf.json and src-tauri/capabilities/) and a real SQLite file.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewUrl, WebviewWindowBuilder};

use campaign_safe_lib::notify::{Notice, NoticeId, Notifier, NotifyError, OnResponse};
use campaign_safe_lib::storage::DB_FILE_NAME;
use campaign_safe_lib::time::Clock;
use campaign_safe_lib::{context, setup, Options, MAIN_WINDOW};

#[path = "integration/bad_input.rs"]
mod bad_input;
#[path = "integration/season.rs"]
mod season;
#[path = "support/secrets.rs"]
mod secrets;

struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Notifications are tested over a real D-Bus in tests/notifications.rs; here they go nowhere.
struct Silent;

impl Notifier for Silent {
    fn show(&self, _: &Notice, _: OnResponse) -> Result<NoticeId, NotifyError> {
        Ok(1)
    }
    fn close(&self, _: NoticeId) {}
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

/// One in-process keyring for every app these tests start, so a restarted app finds its
/// record's key. (The end-to-end tests use a real Secret Service.)
fn keyring() -> Arc<dyn campaign_safe_lib::vault::Keyring> {
    static KEYRING: std::sync::LazyLock<Arc<campaign_safe_lib::vault::MemoryKeyring>> =
        std::sync::LazyLock::new(Default::default);
    KEYRING.clone()
}

fn start_app(data_dir: &Path) -> App<MockRuntime> {
    start_app_with(data_dir, false)
}

fn start_app_with(data_dir: &Path, one_copy_per_record: bool) -> App<MockRuntime> {
    start_app_keyed(data_dir, one_copy_per_record, keyring())
}

fn start_app_keyed(
    data_dir: &Path,
    one_copy_per_record: bool,
    keyring: Arc<dyn campaign_safe_lib::vault::Keyring>,
) -> App<MockRuntime> {
    start_app_with_clock(data_dir, one_copy_per_record, keyring, noon())
}

/// The app as it starts at `now` (a restart later in the day).
fn start_app_at(
    data_dir: &Path,
    keyring: Arc<dyn campaign_safe_lib::vault::Keyring>,
    now: DateTime<Utc>,
) -> App<MockRuntime> {
    start_app_with_clock(data_dir, false, keyring, now)
}

fn start_app_with_clock(
    data_dir: &Path,
    one_copy_per_record: bool,
    keyring: Arc<dyn campaign_safe_lib::vault::Keyring>,
    now: DateTime<Utc>,
) -> App<MockRuntime> {
    let options = Options {
        data_dir: Some(data_dir.to_owned()),
        clock: Arc::new(FixedClock(now)),
        notifier: Arc::new(Silent),
        one_copy_per_record,
        keyring,
    };
    let mut app = setup(mock_builder(), options)
        .build(context())
        .expect("app builds");
    // Tauri runs the app's setup (state, main window) on the first event-loop turn.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    wait_for_the_record(&app);
    app
}

/// The record opens behind the window, as in the real app: the tests start once it has (or
/// once it waits for a passphrase, or could not be opened).
fn wait_for_the_record(app: &App<MockRuntime>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let status = invoke(app, "app_status", json!({})).expect("app status");
        if status["opening"] != json!(true) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the record was still opening after 60 s: {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn invoke_from(
    app: &App<MockRuntime>,
    window: &str,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let webview = app.get_webview_window(window).expect("window exists");
    get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            // The Linux/macOS origin of the app's own pages.
            url: "tauri://localhost".parse().unwrap(),
            body: args.into(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("JSON response"))
}

fn invoke(app: &App<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    invoke_from(app, MAIN_WINDOW, cmd, args)
}

#[test]
fn advice_is_served_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let sections = invoke(&app, "advice_list", json!({})).unwrap();
    let sections = sections.as_array().unwrap();
    assert_eq!(sections.len(), 7);
    assert_eq!(sections[0]["id"], "cyber-hygiene");
    assert_eq!(sections[0]["done"], 0);
    assert!(sections[0]["total"].as_u64().unwrap() >= 3);

    let section = invoke(
        &app,
        "advice_section",
        json!({"sectionId": "safer-canvassing"}),
    )
    .unwrap();
    assert_eq!(section["items"].as_array().unwrap().len(), 7);
    assert!(section["sources"][0]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://www.local.gov.uk/"));
    assert_eq!(section["reviewed"], "2026-11-25");
}

#[test]
fn a_tick_is_stored_with_its_time_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = start_app(dir.path());
        let section = invoke(
            &app,
            "advice_set_tick",
            json!({"sectionId": "routine", "itemId": "vary-route-and-times", "done": true}),
        )
        .unwrap();
        assert_eq!(section["done"], 1);
        let item = &section["items"][1];
        assert_eq!(item["id"], "vary-route-and-times");
        assert_eq!(item["tickedAt"], "2026-11-25T12:00:00Z");
        assert_eq!(item["tickedAtLocal"], "25 Nov 2026, 12:00");
    }
    let app = start_app(dir.path());
    let list = invoke(&app, "advice_list", json!({})).unwrap();
    let routine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "routine")
        .unwrap();
    assert_eq!(routine["done"], 1);
}

#[test]
fn bad_input_gets_the_error_shape_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let error = invoke(
        &app,
        "advice_set_tick",
        json!({"sectionId": "routine", "itemId": "nope", "done": true}),
    )
    .unwrap_err();
    assert_eq!(error["code"], "not_found");
    assert_eq!(error["field"], "itemId");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("no item “nope”"));

    let error = invoke(
        &app,
        "advice_section",
        json!({"sectionId": "<script>alert(1)</script>"}),
    )
    .unwrap_err();
    assert_eq!(error["code"], "not_found");
    assert_eq!(error["field"], "sectionId");
}

#[test]
fn commands_are_refused_outside_the_main_window() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    WebviewWindowBuilder::new(&app, "other", WebviewUrl::default())
        .build()
        .unwrap();
    let error = invoke_from(&app, "other", "advice_list", json!({})).unwrap_err();
    let message = error.as_str().unwrap_or_default();
    assert!(message.contains("not allowed"), "{error}");
}

#[test]
fn commands_the_ui_is_not_granted_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    // Core window control is not granted to the UI, and no shell or fs plugin exists.
    // The dialog plugin runs the pickers from Rust; the UI cannot open dialogs itself.
    for (cmd, args) in [
        (
            "plugin:dialog|open",
            json!({"options": {"directory": true}}),
        ),
        ("plugin:dialog|message", json!({"message": "hello"})),
        ("plugin:window|close", json!({"label": "main"})),
        (
            "plugin:shell|execute",
            json!({"program": "sh", "args": ["-c", "true"]}),
        ),
        ("plugin:fs|read_text_file", json!({"path": "/etc/passwd"})),
        ("no_such_command", json!({})),
    ] {
        let error = invoke(&app, cmd, args).expect_err(cmd);
        let message = error.as_str().unwrap_or_default().to_owned();
        assert!(
            message.contains("not allowed") || message.contains("not found"),
            "{cmd}: {error}"
        );
    }
    // And the app is still fine afterwards.
    assert!(invoke(&app, "advice_list", json!({})).is_ok());
}

#[test]
fn a_damaged_database_is_reported_left_alone_and_advice_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 13 % 256) as u8).collect();
    std::fs::write(dir.path().join(DB_FILE_NAME), &garbage).unwrap();

    let app = start_app(dir.path());
    let status = invoke(&app, "app_status", json!({})).unwrap();
    let problem = status["storageProblem"]
        .as_str()
        .expect("a storage problem is reported");
    assert!(problem.contains("left exactly as it was"), "{problem}");

    // Reading advice needs no database.
    assert_eq!(
        invoke(&app, "advice_list", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        7
    );
    // Saving says plainly why it cannot.
    let error = invoke(
        &app,
        "advice_set_tick",
        json!({"sectionId": "routine", "itemId": "stay-alert", "done": true}),
    )
    .unwrap_err();
    assert_eq!(error["code"], "storage_unavailable");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("cannot open your record"),
        "{error}"
    );

    assert_eq!(
        std::fs::read(dir.path().join(DB_FILE_NAME)).unwrap(),
        garbage
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE from_the_future (x); PRAGMA user_version = 1000;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let app = start_app(dir.path());
    let status = invoke(&app, "app_status", json!({})).unwrap();
    assert!(
        status["storageProblem"]
            .as_str()
            .unwrap()
            .contains("newer version"),
        "{status}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn an_unusable_data_folder_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let app = start_app(&file);
    let status = invoke(&app, "app_status", json!({})).unwrap();
    assert!(
        status["storageProblem"]
            .as_str()
            .unwrap()
            .contains("data folder"),
        "{status}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn a_read_only_folder_or_a_record_in_use_is_said_at_start_in_plain_words() {
    // /sys takes no new entries, even from root: as a read-only folder does for a user.
    let app = start_app_with(Path::new("/sys/campaign-safe-test"), true);
    let status = invoke(&app, "app_status", json!({})).unwrap();
    let problem = status["storageProblem"].as_str().unwrap();
    assert!(problem.contains("read-only"), "{problem}");
    assert!(!problem.contains("damaged"), "{problem}");
    let refused = invoke(
        &app,
        "advice_set_tick",
        json!({"sectionId": "routine", "itemId": "vary-route-and-times", "done": true}),
    )
    .unwrap_err();
    assert!(
        refused["message"].as_str().unwrap().contains("read-only"),
        "{refused}"
    );

    // Another copy holds the record and does not answer: this one never opens it.
    let dir = tempfile::tempdir().unwrap();
    let campaign_safe_lib::storage::instance::Claim::Ours(_held) =
        campaign_safe_lib::storage::instance::claim(dir.path()).unwrap()
    else {
        panic!("the test holds the record");
    };
    let app = start_app_with(dir.path(), true);
    let status = invoke(&app, "app_status", json!({})).unwrap();
    let problem = status["storageProblem"].as_str().unwrap();
    assert!(problem.contains("already open"), "{problem}");
    assert!(!dir
        .path()
        .join(campaign_safe_lib::storage::DB_FILE_NAME)
        .exists());
    // Emergency guidance needs no record.
    invoke(&app, "emergency_info", json!({})).unwrap();
}

#[test]
fn app_status_reports_the_data_folder_when_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let status = invoke(&app, "app_status", json!({})).unwrap();
    assert_eq!(status["storageProblem"], Value::Null);
    assert_eq!(status["contentProblem"], Value::Null);
    assert_eq!(status["dataDir"], dir.path().display().to_string());
    assert!(dir.path().join(DB_FILE_NAME).is_file());
}

/// UK time until someone chooses otherwise; a choice the app does not know is refused by
/// the setting's label and leaves the saved one as it was. (Choosing the device's zone
/// changes every time shown in this process, so the end-to-end test does that.)
#[test]
fn the_time_zone_setting_starts_in_uk_time_and_refuses_unknown_choices() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let shown = invoke(&app, "settings_time_zone", json!({})).unwrap();
    assert_eq!(shown["choice"], "uk");
    assert_eq!(shown["zone"], "Europe/London");
    for bad in [json!("America/New_York"), json!(""), json!("UK")] {
        let error = invoke(&app, "settings_set_time_zone", json!({ "choice": bad })).unwrap_err();
        assert_eq!(error["code"], "validation", "{error}");
        assert_eq!(error["field"], "timeZone", "{error}");
        assert!(error["message"]
            .as_str()
            .unwrap()
            .starts_with("Times shown in:"));
    }
    let kept = invoke(&app, "settings_set_time_zone", json!({ "choice": "uk" })).unwrap();
    assert_eq!(kept["choice"], "uk");
    assert_eq!(
        invoke(&app, "settings_time_zone", json!({})).unwrap()["choice"],
        "uk"
    );
}

/// Phones' locations are kept 7 days after a session unless 1 to 90 days are chosen; any
/// other value, or one of the wrong type, is refused by its field and changes nothing.
#[test]
fn the_days_locations_are_kept_are_chosen_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let shown = invoke(&app, "settings_location_days", json!({})).unwrap();
    assert_eq!(shown, json!({ "days": 7, "most": 90 }));
    for (bad, code) in [
        (json!(0), "validation"),
        (json!(91), "validation"),
        (json!(-1), "validation"),
        (json!(i64::MAX), "validation"),
        (json!(u64::MAX), "invalid_arguments"),
        (json!("30"), "invalid_arguments"),
        (json!(2.5), "invalid_arguments"),
        (json!(null), "invalid_arguments"),
    ] {
        let error = invoke(
            &app,
            "settings_set_location_days",
            json!({ "locationDays": bad }),
        )
        .unwrap_err();
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(error["field"], "locationDays", "{error}");
    }
    let kept = invoke(
        &app,
        "settings_set_location_days",
        json!({ "locationDays": 30 }),
    )
    .unwrap();
    assert_eq!(kept["days"], 30);
    assert_eq!(
        invoke(&app, "settings_location_days", json!({})).unwrap()["days"],
        30
    );
}

/// The front end builds the page from text nodes only, so user and content text can never
/// become markup; and nothing runs that the CSP would have to allow inline.
#[test]
fn the_ui_never_parses_strings_as_html_or_code() {
    let mut checked = 0;
    let mut stack = vec![std::path::PathBuf::from("ui")];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
            continue;
        }
        // The SVG namespace is a name, not an address anything is loaded from.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("http://www.w3.org/2000/svg", "");
        let name = path.display().to_string();
        if name.ends_with(".js") {
            checked += 1;
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "setTimeout('",
                "http://",
                "https://",
            ] {
                assert!(!text.contains(banned), "{name} uses {banned}");
            }
        }
        if name.ends_with(".html") {
            for banned in [
                "<script>", "style=", " onclick", " onload", " onerror", "http://", "https://",
            ] {
                assert!(!text.contains(banned), "{name} contains {banned}");
            }
        }
        if name.ends_with(".css") {
            assert!(
                !text.contains("@import") && !text.contains("url(http"),
                "{name} loads something remote"
            );
        }
    }
    assert!(checked >= 8, "found the UI's modules");
}

/// Every module the first screen needs (the shell, the lock, Today) is named in index.html
/// to be fetched at once: one left out is only asked for once the module importing it has
/// arrived and been read, and holds up the first screen by that much.
#[test]
fn the_first_screen_s_modules_are_all_asked_for_at_once() {
    fn imports(file: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
        let text = std::fs::read_to_string(file).unwrap();
        for line in text.lines().filter(|line| line.starts_with("import ")) {
            let Some(name) = line.split('\'').nth(1) else {
                continue;
            };
            let path = file.parent().unwrap().join(name);
            let path = std::fs::canonicalize(&path)
                .unwrap_or_else(|error| panic!("{} imports {name}: {error}", file.display()));
            let from_ui = path
                .strip_prefix(std::fs::canonicalize("ui").unwrap())
                .unwrap()
                .display()
                .to_string();
            if found.insert(from_ui) {
                imports(&path, found);
            }
        }
    }
    let mut needed = std::collections::BTreeSet::new();
    // app.js's own imports, and the screens it loads first: the lock (with the unlock panel)
    // and Today.
    for first in [
        "js/app.js",
        "js/lock.js",
        "js/unlock.js",
        "js/screens/today.js",
    ] {
        needed.insert(first.to_owned());
        imports(&std::path::Path::new("ui").join(first), &mut needed);
    }
    let page = std::fs::read_to_string("ui/index.html").unwrap();
    let named: std::collections::BTreeSet<String> = ["src=\"", "rel=\"modulepreload\" href=\""]
        .into_iter()
        .flat_map(|before| page.split(before).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    let missing: Vec<_> = needed.difference(&named).collect();
    assert!(
        missing.is_empty(),
        "index.html does not ask at once for {missing:?}"
    );
}

#[test]
fn the_content_security_policy_is_strict() {
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string("tauri.conf.json").unwrap()).unwrap();
    let security = &config["app"]["security"];
    for key in ["csp", "devCsp"] {
        let csp = security[key]
            .as_object()
            .unwrap_or_else(|| panic!("{key} is set"));
        assert_eq!(csp["default-src"], "'self'");
        assert_eq!(csp["script-src"], "'self'");
        assert_eq!(csp["object-src"], "'none'");
        for (directive, value) in csp {
            let value = value.as_str().unwrap();
            assert!(
                !value.contains("unsafe-inline") && !value.contains("unsafe-eval"),
                "{key} {directive}: {value}"
            );
            assert!(
                !value.contains("https:") && !value.contains('*'),
                "{key} {directive} allows remote origins: {value}"
            );
        }
    }
    assert!(security
        .get("dangerousDisableAssetCspModification")
        .is_none());
}

/// Guide files in content/sos/ (all but the model table).
fn sos_guide_files() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/content/sos"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() != "models.json")
        .count()
}

#[test]
fn sos_guides_resolve_models_and_keep_ticks_devices_and_contacts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = start_app(dir.path());
        assert_eq!(
            invoke(&app, "sos_guides", json!({}))
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            sos_guide_files(),
            "every guide in content/sos/ is offered"
        );

        let found = invoke(&app, "sos_resolve", json!({"model": "galaxy s23"})).unwrap();
        assert_eq!(found["guideId"], "samsung-galaxy");
        assert_eq!(found["model"], "Galaxy S23");
        assert_eq!(found["matchKind"], "model");
        assert_eq!(found["guideName"], "Samsung Galaxy");

        let guide = invoke(
            &app,
            "sos_set_tick",
            json!({"guideId": "samsung-galaxy", "itemId": "number-checked", "done": true}),
        )
        .unwrap();
        assert_eq!(guide["done"], 1);
        assert_eq!(guide["diagram"]["buttons"][0]["label"], "Side key");
        invoke(&app, "sos_add_device", json!({"model": "Galaxy S23"})).unwrap();
        invoke(&app, "contacts_save", json!({"role": "force-election-contact", "name": "PC Jo", "phone": "+44 7700 900123", "notes": ""}))
            .unwrap();
    }
    let app = start_app(dir.path());
    let guide = invoke(&app, "sos_guide", json!({"guideId": "samsung-galaxy"})).unwrap();
    assert_eq!(guide["ticks"][0]["itemId"], "number-checked");
    let devices = invoke(&app, "sos_devices", json!({})).unwrap();
    assert_eq!(devices[0]["guideId"], "samsung-galaxy");
    let cards = invoke(&app, "contacts_list", json!({})).unwrap();
    assert_eq!(cards[0]["phone"], "07700900123");
}

#[test]
fn sos_and_contact_input_errors_name_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let error = invoke(&app, "sos_resolve", json!({"model": "  "})).unwrap_err();
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("validation"), Some("model"))
    );
    let error = invoke(&app, "sos_resolve", json!({"model": "x".repeat(500)})).unwrap_err();
    assert_eq!(error["field"], "model");
    let error = invoke(&app, "sos_guide", json!({"guideId": "nope"})).unwrap_err();
    assert_eq!(error["field"], "guideId");
    let error = invoke(&app, "contacts_save", json!({"role": "party-safety-contact", "name": "Sam", "phone": "+1 202 555 0100", "notes": ""}))
        .unwrap_err();
    assert_eq!(error["field"], "phone");
    assert!(error["message"].as_str().unwrap().starts_with("Phone: "));
    let cards = invoke(&app, "contacts_list", json!({})).unwrap();
    assert!(
        cards
            .as_array()
            .unwrap()
            .iter()
            .all(|card| card["name"] == ""),
        "nothing stored"
    );
}

#[test]
fn emergency_guidance_is_served_with_its_sources() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let info = invoke(&app, "emergency_info", json!({})).unwrap();
    assert_eq!(info["sections"][0]["id"], "cant-speak");
    assert!(info["sources"].as_array().unwrap().len() >= 2);
}

fn session_args(interval: Option<u32>, ends_at: &str) -> Value {
    json!({"session": {
        "kind": "canvass", "mode": "me", "title": "Ward 3", "participants": ["Asha", "Ben"], "place": "", "notes": "",
        "escalation": [{"name": "Office", "phone": "01632 960123", "relationship": "Agent"}],
        "endsAt": ends_at, "intervalMinutes": interval, "reminderLeadMinutes": 5, "graceMinutes": 10
    }})
}

#[test]
fn check_in_sessions_start_check_in_and_end_through_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let error = invoke(
        &app,
        "checkins_start",
        session_args(Some(2), "2026-11-25T18:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("validation"), Some("intervalMinutes"))
    );
    let error = invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T11:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(error["field"], "endsAt");

    let session = invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T18:00:00Z"),
    )
    .unwrap();
    assert_eq!(session["status"], "ok");
    assert_eq!(session["nextDueAt"], "2026-11-25T12:30:00Z");
    let id = session["id"].as_i64().unwrap();
    let session = invoke(&app, "checkins_check_in", json!({"sessionId": id})).unwrap();
    assert_eq!(session["timeline"][1]["kind"], "checked_in");
    // A welfare check: due within the grace period (10 min), answered by the next check-in.
    let asked = invoke(&app, "checkins_ask", json!({"sessionId": id})).unwrap();
    assert_eq!(asked["nextDueAt"], "2026-11-25T12:10:00Z");
    assert_eq!(asked["status"], "due", "the ask is the reminder");
    assert_eq!(asked["welfareCheck"]["askedBy"], "you");
    assert_eq!(asked["welfareCheck"]["answer"], Value::Null);
    let answered = invoke(&app, "checkins_check_in", json!({"sessionId": id})).unwrap();
    assert_eq!(answered["welfareCheck"]["answer"], "Checked in");
    for bad in [json!("1"), json!(null), json!(i64::MAX), json!(-1)] {
        let error = invoke(&app, "checkins_ask", json!({"sessionId": bad})).unwrap_err();
        assert!(
            error["code"] == "invalid_arguments" || error["code"] == "not_found",
            "{error}"
        );
    }
    assert_eq!(
        invoke(&app, "checkins_active", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    invoke(&app, "checkins_end", json!({"sessionId": id})).unwrap();
    assert!(invoke(&app, "checkins_active", json!({}))
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
    let error = invoke(&app, "checkins_check_in", json!({"sessionId": id})).unwrap_err();
    assert_eq!(error["code"], "conflict");
}

/// `incidents_attach` as the window sends it: the raw bytes, with the incident and the
/// (URL-encoded) file name in headers.
fn attach(app: &App<MockRuntime>, id: &str, name: &str, bytes: &[u8]) -> Result<Value, Value> {
    let webview = app.get_webview_window(MAIN_WINDOW).unwrap();
    let mut headers = tauri::http::HeaderMap::new();
    headers.insert("incident-id", id.parse().unwrap());
    headers.insert("file-name", name.parse().unwrap());
    get_ipc_response(
        &webview,
        InvokeRequest {
            cmd: "incidents_attach".into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Raw(bytes.to_vec()),
            headers,
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn incidents_record_amend_attach_and_verify_through_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let incident = |what: &str| json!({"incident": {"occurredFrom": "2026-11-25T11:00:00Z", "category": "phone-call", "whatHappened": what}});
    let error = invoke(&app, "incidents_record", incident("  ")).unwrap_err();
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("validation"), Some("whatHappened"))
    );
    let future = json!({"incident": {"occurredFrom": "2026-11-26T12:30:00Z", "category": "phone-call", "whatHappened": "x"}});
    assert_eq!(
        invoke(&app, "incidents_record", future).unwrap_err()["field"],
        "occurredFrom"
    );

    let detail = invoke(
        &app,
        "incidents_record",
        incident("Withheld number: “we are watching you”"),
    )
    .unwrap();
    let id = detail["id"].as_str().unwrap().to_owned();
    assert_eq!(
        detail["versions"][0]["recordedAt"], "2026-11-25T12:00:00Z",
        "the app sets the recorded time"
    );
    let amended = json!({"incidentId": id, "reason": "More detail", "incident": {
        "occurredFrom": "2026-11-25T11:00:00Z", "category": "phone-call", "whatHappened": "Withheld number, twice"}});
    assert_eq!(
        invoke(&app, "incidents_amend", amended).unwrap()["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A file arrives as the raw body, its names in headers.
    let attached = attach(&app, &id, "call%20log%20%C3%A9.png", b"screenshot bytes").unwrap();
    assert_eq!(
        attached["current"]["attachments"][0]["originalName"],
        "call log é.png"
    );
    assert_eq!(attached["current"]["attachments"][0]["size"], 16);

    // A refused attachment leaves no bytes behind; verify names any file no incident names.
    let attachments = dir.path().join("attachments");
    let files_there = || std::fs::read_dir(&attachments).unwrap().count();
    assert_eq!(files_there(), 1);
    // Sealed on disk: the bytes sent are not there in the clear.
    for file in std::fs::read_dir(&attachments).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!bytes.windows(16).any(|w| w == b"screenshot bytes"));
    }
    let error = attach(&app, "no-such-incident", "a.png", b"other bytes").unwrap_err();
    assert_eq!(error["code"], "not_found", "{error}");
    let long_name = format!("{}.png", "x".repeat(300));
    let error = attach(&app, &id, &long_name, b"other bytes").unwrap_err();
    assert_eq!(error["field"], "file", "{error}");
    assert_eq!(files_there(), 1, "refused attachments left bytes behind");
    let stray = attachments.join("ab".repeat(32));
    std::fs::write(&stray, b"left by a crash").unwrap();
    let report = invoke(&app, "incidents_verify", json!({})).unwrap();
    assert_eq!(report["unreferencedFiles"], json!(["ab".repeat(32)]));
    std::fs::remove_file(stray).unwrap();

    let page = invoke(&app, "incidents_list", json!({"query": {"text": "twice"}})).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let report = invoke(&app, "incidents_verify", json!({})).unwrap();
    assert_eq!(
        (
            report["incidentsChecked"].as_u64(),
            report["problems"].as_array().unwrap().len()
        ),
        (Some(1), 0)
    );
    let error = invoke(
        &app,
        "incidents_export",
        json!({"selection": {}, "folder": " "}),
    )
    .unwrap_err();
    assert_eq!(error["field"], "folder");
    let error = invoke(
        &app,
        "incidents_erase",
        json!({"incidentId": id, "reason": "Request", "confirmation": "yes"}),
    )
    .unwrap_err();
    assert_eq!(error["field"], "confirmation");
}

#[test]
fn team_commands_answer_in_the_one_error_shape_before_any_account_exists() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let status = invoke(&app, "team_status", json!({})).unwrap();
    assert_eq!(status["connection"], "signedOut");
    assert_eq!(status["teams"], json!([]));

    let error = invoke(&app, "team_create", json!({"name": "Ward 3"})).unwrap_err();
    assert_eq!(error["code"], "signed_out");
    assert!(error["message"].as_str().unwrap().contains("Sign in"));

    let account = |homeserver: &str, user: &str| json!({"account": {"homeserver": homeserver, "user": user, "password": "x"}});
    let error = invoke(&app, "team_sign_in", account("", "sam")).unwrap_err();
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("validation"), Some("homeserver"))
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("Team server:"));
    let error = invoke(&app, "team_sign_in", account("not a server", "sam")).unwrap_err();
    assert_eq!(error["field"], "homeserver");
    let error = invoke(&app, "team_sign_in", account("matrix.example.org", " ")).unwrap_err();
    assert_eq!(error["field"], "user");
    assert!(error["message"].as_str().unwrap().starts_with("User name:"));
    let named = |device_name: &str| json!({"account": {"homeserver": "matrix.example.org", "user": "sam", "password": "x", "deviceName": device_name}});
    for hostile in ["x".repeat(65).as_str(), "Laptop\u{7}", "Sam\nPhone"] {
        let error = invoke(&app, "team_sign_in", named(hostile)).unwrap_err();
        assert_eq!(error["field"], "deviceName", "{hostile:?}: {error}");
        assert!(error["message"]
            .as_str()
            .unwrap()
            .starts_with("This device’s name:"));
    }

    // The recovery key is checked by field before anything goes to a server.
    for hostile in [
        json!(""),
        json!("   "),
        json!("k".repeat(10_000)),
        json!("Es\u{1b}[2J"),
    ] {
        let error =
            invoke(&app, "team_confirm_device", json!({"recoveryKey": hostile})).unwrap_err();
        assert_eq!(error["field"], "recoveryKey", "{hostile}: {error}");
        assert!(error["message"]
            .as_str()
            .unwrap()
            .starts_with("Recovery key:"));
    }
    let error = invoke(
        &app,
        "team_confirm_device",
        json!({"recoveryKey": i64::MAX}),
    )
    .unwrap_err();
    assert_eq!(error["field"], "recoveryKey", "{error}");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("Recovery key:"));
    let error = invoke(
        &app,
        "team_confirm_device",
        json!({"recoveryKey": "EsTj 3yST y93F"}),
    )
    .unwrap_err();
    assert_eq!(error["code"], "signed_out", "{error}");
    for hostile in [
        json!("@vic:localhost"),
        json!("x".repeat(100_000)),
        json!(-1),
        json!(null),
    ] {
        let error = invoke(
            &app,
            "team_acknowledge_identity",
            json!({"userId": hostile}),
        )
        .unwrap_err();
        assert!(
            error["code"] == "signed_out" || error["field"] == "userId",
            "{hostile}: {error}"
        );
    }

    // Comparing numbers: wrong types are refused by field; the rest needs a signed-in device.
    for (command, args, field) in [
        ("team_compare_start", json!({"userId": i64::MAX}), "userId"),
        (
            "team_compare_start",
            json!({"userId": "@vic:localhost", "deviceId": ["A"]}),
            "deviceId",
        ),
        ("team_compare_answer", json!({"matched": "yes"}), "matched"),
        ("team_compare_answer", json!({}), "matched"),
    ] {
        let error = invoke(&app, command, args.clone()).unwrap_err();
        assert_eq!(error["field"], field, "{command} {args}: {error}");
    }
    for args in [
        json!({}),
        json!({"userId": "x".repeat(100_000), "deviceId": "-1"}),
    ] {
        let error = invoke(&app, "team_compare_start", args.clone()).unwrap_err();
        assert_eq!(error["code"], "signed_out", "{args}: {error}");
    }
    // Nothing to accept or answer: said by the panel's field; stopping nothing is harmless.
    for (command, args) in [
        ("team_compare_accept", json!({})),
        ("team_compare_answer", json!({"matched": true})),
    ] {
        let error = invoke(&app, command, args.clone()).unwrap_err();
        assert_eq!(error["field"], "comparison", "{command}: {error}");
    }
    let stopped = invoke(&app, "team_compare_stop", json!({})).unwrap();
    assert_eq!(stopped["comparison"], json!(null));

    let session = invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T18:00:00Z"),
    )
    .unwrap();
    let error = invoke(
        &app,
        "checkins_share",
        json!({"sessionId": session["id"], "roomId": "!nope:example.org", "chatMembers": []}),
    )
    .unwrap_err();
    assert_eq!(error["code"], "not_found");
    assert_eq!(
        invoke(&app, "alarms_open", json!({})).unwrap()["alarms"],
        json!([])
    );
}

#[test]
fn hidden_control_characters_and_overlong_lists_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let refused = |cmd: &str, args: Value| {
        let error = invoke(&app, cmd, args).unwrap_err();
        assert_eq!(error["code"], "validation", "{error}");
        (
            error["field"].as_str().unwrap_or_default().to_owned(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    };

    let incident = |what: &str| json!({"incident": {"occurredFrom": "2026-11-25T11:00:00Z", "category": "phone-call", "whatHappened": what}});
    let (field, message) = refused("incidents_record", incident("He said\u{0}nothing"));
    assert_eq!(field, "whatHappened");
    assert!(
        message.starts_with("What happened: this has a hidden control character"),
        "{message}"
    );
    refused("incidents_record", incident("escape \u{1b}[31m red"));
    // Line breaks and tabs are kept.
    let kept = invoke(
        &app,
        "incidents_record",
        incident("Line one\n\tLine two\r\nLine three"),
    )
    .unwrap();
    assert!(kept["current"]["whatHappened"]
        .as_str()
        .unwrap()
        .contains("\n\tLine two"));

    let mut session = session_args(Some(30), "2026-11-25T18:00:00Z");
    session["session"]["title"] = json!("Ward\u{0}3");
    assert_eq!(refused("checkins_start", session).0, "title");
    let mut session = session_args(Some(30), "2026-11-25T18:00:00Z");
    session["session"]["participants"] = json!(vec!["Volunteer"; 500]);
    let (field, message) = refused("checkins_start", session);
    assert_eq!(field, "participants");
    assert!(
        message.starts_with("People: at most 20 people"),
        "{message}"
    );
    let mut session = session_args(Some(30), "2026-11-25T18:00:00Z");
    session["session"]["participants"] = json!(["Asha", "x".repeat(490)]);
    assert_eq!(refused("checkins_start", session).0, "participants[1]");

    let (field, message) = refused(
        "contacts_save",
        json!({"role": "party-safety-contact", "name": "Sam", "phone": "01632 960123", "notes": "call\u{7}"}),
    );
    assert_eq!(field, "notes");
    assert!(message.starts_with("Notes: this has a hidden"), "{message}");
}

#[test]
fn wrongly_typed_arguments_get_the_error_shape_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let error = invoke(
        &app,
        "checkins_extend",
        json!({"sessionId": 1, "minutes": -5}),
    )
    .unwrap_err();
    assert_eq!(error["code"], "invalid_arguments");
    assert_eq!(error["field"], "minutes");
    assert_eq!(
        error["message"],
        "Minutes: Campaign Safe cannot use this value (got the number -5, expected a whole number). Nothing was changed."
    );
    let mut session = session_args(Some(30), "2026-11-25T18:00:00Z");
    session["session"]["participants"] = json!("Asha");
    let error = invoke(&app, "checkins_start", session).unwrap_err();
    assert_eq!(error["field"], "participants", "{error}");

    // Every command the window may call, with every argument name it uses given a value of
    // the wrong kind: each refusal is { code, message }, never a bare string.
    let build = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src-tauri/build.rs"))
        .unwrap();
    let list = &build[build.find("const COMMANDS").unwrap()..];
    let list = &list[..list.find("];").unwrap()];
    let commands: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    assert!(commands.len() > 40, "{commands:?}");
    let keys = [
        "sessionId",
        "minutes",
        "session",
        "incident",
        "incidentId",
        "query",
        "selection",
        "folder",
        "reason",
        "confirmation",
        "sectionId",
        "itemId",
        "done",
        "role",
        "name",
        "phone",
        "notes",
        "choice",
        "model",
        "guideId",
        "deviceId",
        "personId",
        "path",
        "purpose",
        "start",
        "moment",
        "ms",
        "homeserver",
        "username",
        "password",
        "token",
        "roomId",
        "link",
        "userId",
        "text",
        "chatMembers",
        "displayName",
        "account",
        "invite",
    ];
    let wrong: serde_json::Map<String, Value> = keys
        .iter()
        .map(|key| (key.to_string(), json!([[{"x": -1.5}]])))
        .collect();
    let mut bare = Vec::new();
    for command in commands {
        if command.starts_with("choose_") {
            continue; // Would open a native dialog if an argument were ever accepted.
        }
        if let Err(error) = invoke(&app, command, Value::Object(wrong.clone())) {
            if !(error["code"].is_string() && error["message"].is_string()) {
                bare.push(format!("{command}: {error}"));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "answered outside the error shape:\n{}",
        bare.join("\n")
    );
}

/// Waits until the record has opened behind the window (after its passphrase, or an upgrade).
fn wait_until_open(app: &App<MockRuntime>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let status = invoke(app, "app_status", json!({})).unwrap();
        if status["upgrading"] == false
            && status["opening"] == false
            && status["passphrase"].is_null()
        {
            assert!(status["storageProblem"].is_null(), "{status}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the record did not open within a minute; app_status said {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn with_no_keyring_the_record_is_kept_under_a_passphrase_asked_for_at_each_start() {
    let dir = tempfile::tempdir().unwrap();
    let no_keyring = || -> Arc<dyn campaign_safe_lib::vault::Keyring> {
        Arc::new(campaign_safe_lib::vault::NoKeyring(
            "no Secret Service is running".into(),
        ))
    };
    let card = json!({"role": "force-election-contact", "name": "PC Jo Featherstonehaugh", "phone": "+44 7700 900123", "notes": ""});
    {
        let app = start_app_keyed(dir.path(), false, no_keyring());
        let status = invoke(&app, "app_status", json!({})).unwrap();
        assert_eq!(status["passphrase"]["mode"], "choose", "{status}");
        let why = status["passphrase"]["why"].as_str().unwrap();
        assert!(why.contains("has no keyring"), "{why}");
        assert!(
            !why.contains("no Secret Service is running"),
            "raw detail shown: {why}"
        );
        assert_eq!(
            status["keyKeptIn"],
            Value::Null,
            "no key is kept anywhere yet: {status}"
        );
        assert_eq!(status["upgrading"], false);
        // Locked: saving says why, in the error shape; Emergency guidance still answers.
        let locked = invoke(&app, "contacts_save", card.clone()).unwrap_err();
        assert_eq!(locked["code"], "locked", "{locked}");
        assert!(invoke(&app, "emergency_info", json!({})).is_ok());

        for (args, code, field) in [
            (
                json!({"passphrase": "short", "passphraseAgain": "short"}),
                "invalid_passphrase",
                "passphrase",
            ),
            (
                json!({"passphrase": "a long passphrase", "passphraseAgain": "a long passphrasE"}),
                "passphrase_mismatch",
                "passphraseAgain",
            ),
            (json!({"passphrase": 12}), "invalid_arguments", "passphrase"),
        ] {
            let error = invoke(&app, "unlock_record", args).unwrap_err();
            assert_eq!(error["code"], code, "{error}");
            assert_eq!(error["field"], field, "{error}");
        }
        invoke(
            &app,
            "unlock_record",
            json!({"passphrase": "a long passphrase", "passphraseAgain": "a long passphrase"}),
        )
        .unwrap();
        wait_until_open(&app);
        invoke(&app, "contacts_save", card.clone()).unwrap();
        let again = invoke(
            &app,
            "unlock_record",
            json!({"passphrase": "a long passphrase"}),
        )
        .unwrap_err();
        assert_eq!(again["code"], "already_open", "{again}");
    }
    for name in std::fs::read_dir(dir.path()).unwrap() {
        let path = name.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(17).any(|w| w == b"Featherstonehaugh"),
                "{} holds the name in the clear",
                path.display()
            );
        }
    }

    // Next start: the passphrase is asked for; wrong tries are slowed down.
    let app = start_app_keyed(dir.path(), false, no_keyring());
    let status = invoke(&app, "app_status", json!({})).unwrap();
    assert_eq!(status["passphrase"]["mode"], "enter", "{status}");
    assert_eq!(status["keyKeptIn"], "passphrase", "{status}");
    for _ in 0..campaign_safe_lib::tries::FREE_TRIES {
        let wrong = invoke(
            &app,
            "unlock_record",
            json!({"passphrase": "not the passphrase"}),
        )
        .unwrap_err();
        assert_eq!(wrong["code"], "wrong_passphrase", "{wrong}");
        assert_eq!(wrong["field"], "passphrase");
    }
    // The test clock stands still, so the wait never runs out, even for the right one.
    let slowed = invoke(
        &app,
        "unlock_record",
        json!({"passphrase": "a long passphrase"}),
    )
    .unwrap_err();
    assert_eq!(slowed["code"], "slow_down", "{slowed}");
    assert!(
        slowed["message"]
            .as_str()
            .unwrap()
            .contains("Wait 5 seconds"),
        "{slowed}"
    );
    drop(app);

    // A restart gives no free tries: still waiting, then the wait runs out.
    let app = start_app_keyed(dir.path(), false, no_keyring());
    let slowed = invoke(
        &app,
        "unlock_record",
        json!({"passphrase": "a long passphrase"}),
    )
    .unwrap_err();
    assert_eq!(slowed["code"], "slow_down", "{slowed}");
    drop(app);
    let app = start_app_at(
        dir.path(),
        no_keyring(),
        noon() + chrono::Duration::seconds(6),
    );
    invoke(
        &app,
        "unlock_record",
        json!({"passphrase": "a long passphrase"}),
    )
    .unwrap();
    assert!(
        !dir.path().join("unlock-tries.json").exists(),
        "the right passphrase clears the count"
    );
    wait_until_open(&app);
    let cards = invoke(&app, "contacts_list", json!({})).unwrap();
    assert!(
        cards.to_string().contains("PC Jo Featherstonehaugh"),
        "{cards}"
    );
}

#[path = "../benches/support/log.rs"]
#[allow(dead_code)]
mod incident_log;

/// Set for the child process that encrypts a record and is killed while it does.
const ENCRYPT_CHILD: &str = "CAMPAIGN_SAFE_TEST_ENCRYPT_CHILD";

/// Not a test of its own: the child process of the one below, which opens (and so encrypts)
/// the record named in its environment.
#[test]
#[ignore = "run as a child process by a_plain_record_killed_while_being_encrypted_loses_nothing"]
fn encrypt_in_a_child_process() {
    let Ok(spec) = std::env::var(ENCRYPT_CHILD) else {
        return;
    };
    let (path, key) = spec.split_once('|').expect("path|key");
    let bytes: Vec<u8> = (0..key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&key[i..i + 2], 16).expect("hex"))
        .collect();
    let key = campaign_safe_lib::vault::DataKey::from_bytes(&bytes).expect("a key");
    campaign_safe_lib::storage::Database::open(Path::new(path), &key).expect("encrypted");
}

#[test]
fn a_plain_record_of_10000_incidents_killed_while_being_encrypted_loses_nothing() {
    use campaign_safe_lib::storage::Database;
    const INCIDENTS: i64 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let key = campaign_safe_lib::vault::DataKey::generate().unwrap();
    {
        let database = Database::open_in(dir.path(), &key).unwrap();
        incident_log::build(&database, INCIDENTS as usize);
    }
    // What the previous version left: the same record, unencrypted.
    let plain = dir.path().join("plain.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", key.sqlcipher_key().as_str())
            .unwrap();
        conn.execute(
            "ATTACH DATABASE ?1 AS plain KEY ''",
            [plain.to_str().unwrap()],
        )
        .unwrap();
        conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
            .unwrap();
        conn.execute_batch(&format!(
            "PRAGMA plain.user_version = {}; DETACH DATABASE plain;",
            campaign_safe_lib::storage::latest_schema_version()
        ))
        .unwrap();
    }
    std::fs::rename(&plain, &path).unwrap();
    let is_plain = || {
        std::fs::read(&path)
            .unwrap()
            .starts_with(b"SQLite format 3\0")
    };
    assert!(is_plain());

    let partial = dir.path().join(format!("{DB_FILE_NAME}.encrypting"));
    let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let spec = format!("{}|{hex}", path.display());
    let mut caught = 0;
    // Killed as the copy starts, and later and later into it, until one run finishes.
    for delay_ms in [0u64, 5, 20, 60, 150, 400, 1000] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "encrypt_in_a_child_process",
                "--ignored",
                "--test-threads=1",
            ])
            .env(ENCRYPT_CHILD, &spec)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !partial.exists() && child.try_wait().unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the child never started the encrypted copy"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        if finished || !is_plain() {
            break;
        }
        caught += 1;
        // Killed mid-copy: the record is still the whole plain file.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "after a kill {delay_ms} ms into the copy");
        let count: i64 = conn
            .query_row("SELECT count(*) FROM incident", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, INCIDENTS, "after a kill {delay_ms} ms into the copy");
    }
    assert!(caught > 0, "no run was caught while copying");

    // Started again: encrypted, whole, and every chain verifies.
    let database = Database::open(&path, &key).unwrap();
    assert!(!is_plain());
    assert!(!partial.exists());
    let conn = database.conn();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM incident", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, INCIDENTS);
    let files = campaign_safe_lib::incidents::attachments::AttachmentStore::new(dir.path(), &key);
    let report = campaign_safe_lib::incidents::chain::verify_all(&conn, &files).unwrap();
    assert_eq!(report.incidents_checked, INCIDENTS as usize);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    eprintln!("killed {caught} times while encrypting 10,000 incidents; nothing lost");
}

#[test]
fn a_backup_made_through_ipc_restores_into_a_new_install_and_refuses_bad_input() {
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().display().to_string();
    let passphrase = "harbour pencil meadow";
    {
        let app = start_app(first.path());
        let status = invoke(&app, "backup_status", json!({})).unwrap();
        assert_eq!(status["lastBackupAt"], Value::Null);
        assert_eq!(status["reminderDue"], false, "nothing to back up yet");
        invoke(&app, "contacts_save", json!({"role": "election-coordinator", "name": "Priya Shah", "phone": "01632 960 123", "notes": ""})).unwrap();
        for (args, field) in [
            (
                json!({"folder": "", "passphrase": passphrase, "passphraseAgain": passphrase}),
                "folder",
            ),
            (
                json!({"folder": folder, "passphrase": "short", "passphraseAgain": "short"}),
                "passphrase",
            ),
            (
                json!({"folder": folder, "passphrase": passphrase, "passphraseAgain": "harbour"}),
                "passphraseAgain",
            ),
            (
                json!({"folder": folder, "passphrase": 7, "passphraseAgain": passphrase}),
                "passphrase",
            ),
        ] {
            let error = invoke(&app, "backup_write", args).unwrap_err();
            assert_eq!(error["field"], field, "{error}");
        }
        let made = invoke(
            &app,
            "backup_write",
            json!({"folder": folder, "passphrase": passphrase, "passphraseAgain": passphrase}),
        )
        .unwrap();
        assert!(
            made["path"].as_str().unwrap().ends_with(".csbackup"),
            "{made}"
        );
        let status = invoke(&app, "backup_status", json!({})).unwrap();
        assert!(status["lastBackupAt"].is_string(), "{status}");
    }
    let backup = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .display()
        .to_string();

    let app = start_app(second.path());
    let wrong = invoke(
        &app,
        "backup_restore",
        json!({"path": backup, "passphrase": "harbour pencil meadows"}),
    )
    .unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase", "{wrong}");
    assert_eq!(wrong["field"], "passphrase");
    let missing = invoke(
        &app,
        "backup_restore",
        json!({"path": "", "passphrase": passphrase}),
    )
    .unwrap_err();
    assert_eq!(missing["field"], "file", "{missing}");
    let restored = invoke(
        &app,
        "backup_restore",
        json!({"path": backup, "passphrase": passphrase}),
    )
    .unwrap();
    assert_eq!(restored["incidents"], 0);
    let cards = invoke(&app, "contacts_list", json!({})).unwrap();
    assert!(cards.to_string().contains("Priya Shah"), "{cards}");
    // A second restore would overwrite: refused.
    let again = invoke(
        &app,
        "backup_restore",
        json!({"path": backup, "passphrase": passphrase}),
    )
    .unwrap_err();
    assert_eq!(again["code"], "not_empty", "{again}");
}

#[test]
fn while_locked_only_emergency_guidance_im_ok_and_unlocking_answer() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let refused = invoke(&app, "lock_now", json!({})).unwrap_err();
    assert_eq!(refused["code"], "no_pin", "{refused}");
    invoke(
        &app,
        "lock_set_pin",
        json!({"pin": "2468", "pinAgain": "2468"}),
    )
    .unwrap();
    let session = invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T15:00:00Z"),
    )
    .unwrap();
    let id = session["id"].clone();
    invoke(&app, "contacts_save", json!({"role": "election-coordinator", "name": "Priya Shah", "phone": "01632 960 123", "notes": ""})).unwrap();
    let status = invoke(&app, "lock_now", json!({})).unwrap();
    assert_eq!(status["locked"], true);

    for (command, args) in [
        ("incidents_list", json!({"query": {}})),
        ("contacts_list", json!({})),
        ("checkins_detail", json!({"sessionId": id})),
        ("team_status", json!({})),
        ("backup_status", json!({})),
        ("lock_set_pin", json!({"pin": "1111", "pinAgain": "1111"})),
    ] {
        let error = invoke(&app, command, args).unwrap_err();
        assert_eq!(error["code"], "app_locked", "{command}: {error}");
        assert!(!error.to_string().contains("Priya"), "{command}: {error}");
    }
    // The Emergency screen's guidance and "I'm OK" still answer.
    invoke(&app, "emergency_info", json!({})).unwrap();
    invoke(&app, "checkins_active", json!({})).unwrap();
    invoke(&app, "checkins_check_in", json!({"sessionId": id})).unwrap();

    let wrong = invoke(&app, "lock_unlock", json!({"pin": "1357"})).unwrap_err();
    assert_eq!(
        (wrong["code"].as_str(), wrong["field"].as_str()),
        (Some("wrong_pin"), Some("pin"))
    );
    let open = invoke(&app, "lock_unlock", json!({"pin": "2468"})).unwrap();
    assert_eq!(open["locked"], false);
    assert!(invoke(&app, "contacts_list", json!({}))
        .unwrap()
        .to_string()
        .contains("Priya Shah"));
    drop(app);

    // With a PIN set, a restart starts locked.
    let app = start_app(dir.path());
    assert_eq!(
        invoke(&app, "lock_status", json!({})).unwrap()["locked"],
        true
    );
    assert_eq!(
        invoke(&app, "contacts_list", json!({})).unwrap_err()["code"],
        "app_locked"
    );
    // A duress PIN cannot be set while locked; unlocked, it is refused by field until it is
    // well formed and not the PIN, and then it opens the app just as the PIN does.
    let locked = invoke(
        &app,
        "lock_set_duress_pin",
        json!({"duressPin": "8642", "duressPinAgain": "8642"}),
    )
    .unwrap_err();
    assert_eq!(locked["code"], "app_locked");
    let with_pin = invoke(&app, "lock_unlock", json!({"pin": "2468"})).unwrap();
    for (pin, again, field) in [
        (json!("2468"), json!("2468"), "duressPin"),
        (json!("12"), json!("12"), "duressPin"),
        (json!("8642"), json!("8643"), "duressPinAgain"),
        (json!(8642), json!("8642"), "duressPin"),
        (json!("8642"), json!(null), "duressPinAgain"),
    ] {
        let error = invoke(
            &app,
            "lock_set_duress_pin",
            json!({"duressPin": pin, "duressPinAgain": again}),
        )
        .unwrap_err();
        assert_eq!(error["field"], field, "{error}");
    }
    let set = invoke(
        &app,
        "lock_set_duress_pin",
        json!({"duressPin": "8642", "duressPinAgain": "8642"}),
    )
    .unwrap();
    assert_eq!(set["duressPinSet"], true);
    invoke(&app, "lock_now", json!({})).unwrap();
    let under_duress = invoke(&app, "lock_unlock", json!({"pin": "8642"})).unwrap();
    assert_eq!(under_duress, with_pin_but_duress_set(with_pin));
    assert!(invoke(&app, "contacts_list", json!({}))
        .unwrap()
        .to_string()
        .contains("Priya Shah"));
}

/// The duress PIN, end to end within the app: typed at the lock, it opens the app and queues,
/// for the session this device shares, the hidden signal that raises the team's silent alarm
/// (the team's side is tested through Synapse in `tests/team/duress.rs`); the PIN queues none.
#[test]
fn unlocking_with_the_duress_pin_queues_the_hidden_signal_for_a_shared_session() {
    use tauri::Manager;
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let state = app.state::<campaign_safe_lib::state::AppState>();
    let database = state.database().unwrap().clone();
    database
        .conn()
        .execute_batch(
            "INSERT INTO team_account (id, homeserver, user_id, device_id, session, store_passphrase, signed_in_at)
             VALUES (1, 'http://127.0.0.1:9', '@asha:campaign.example', 'DEVICEA', '{}', 'secret', 0);
             INSERT INTO team (room_id, name, joined_at) VALUES ('!ward5:campaign.example', 'Ward 5', 0);",
        )
        .unwrap();
    let id = invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T15:00:00Z"),
    )
    .unwrap()["id"]
        .clone();
    invoke(
        &app,
        "checkins_share",
        json!({"sessionId": id, "roomId": "!ward5:campaign.example", "chatMembers": []}),
    )
    .unwrap();
    invoke(
        &app,
        "lock_set_pin",
        json!({"pin": "2468", "pinAgain": "2468"}),
    )
    .unwrap();
    invoke(
        &app,
        "lock_set_duress_pin",
        json!({"duressPin": "8642", "duressPinAgain": "8642"}),
    )
    .unwrap();
    let signals = || -> Vec<Value> {
        database
            .reader()
            .prepare("SELECT content FROM team_outbox WHERE kind = 'duress'")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|c| serde_json::from_str(&c.unwrap()).unwrap())
            .collect()
    };
    invoke(&app, "lock_now", json!({})).unwrap();
    invoke(&app, "lock_unlock", json!({"pin": "2468"})).unwrap();
    assert!(signals().is_empty(), "the PIN tells nobody anything");
    invoke(&app, "lock_now", json!({})).unwrap();
    let opened = invoke(&app, "lock_unlock", json!({"pin": "8642"})).unwrap();
    assert_eq!(opened["locked"], false);
    let queued = signals();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["action"], "raised");
    // Nothing on this device shows it: no alarm, nothing on the session's page.
    assert_eq!(
        invoke(&app, "alarms_open", json!({})).unwrap()["alarms"],
        json!([])
    );
    let page = invoke(&app, "checkins_detail", json!({"sessionId": id})).unwrap();
    assert_eq!(page["duress"], Value::Null, "{page}");
    assert!(
        page["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .all(|event| !event["kind"].as_str().unwrap().contains("duress")),
        "{page}"
    );
}

/// "I'm OK" on the lock screen, once a duress PIN is set: it takes a PIN. The PIN checks in;
/// the duress PIN checks in just the same and queues the hidden signal; no PIN, a wrong one
/// or a value of the wrong type is refused by the field "PIN" and changes nothing. The app
/// stays locked throughout. Without a duress PIN, or unlocked, "I'm OK" takes none.
#[test]
fn i_m_ok_on_the_lock_screen_takes_the_pin_once_a_duress_pin_is_set() {
    use tauri::Manager;
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path());
    let state = app.state::<campaign_safe_lib::state::AppState>();
    let database = state.database().unwrap().clone();
    database
        .conn()
        .execute_batch(
            "INSERT INTO team_account (id, homeserver, user_id, device_id, session, store_passphrase, signed_in_at)
             VALUES (1, 'http://127.0.0.1:9', '@asha:campaign.example', 'DEVICEA', '{}', 'secret', 0);
             INSERT INTO team (room_id, name, joined_at) VALUES ('!ward5:campaign.example', 'Ward 5', 0);",
        )
        .unwrap();
    let id = invoke(
        &app,
        "checkins_start",
        session_args(Some(30), "2026-11-25T15:00:00Z"),
    )
    .unwrap()["id"]
        .clone();
    invoke(
        &app,
        "checkins_share",
        json!({"sessionId": id, "roomId": "!ward5:campaign.example", "chatMembers": []}),
    )
    .unwrap();
    let check_ins = || -> i64 {
        database
            .reader()
            .query_row(
                "SELECT COUNT(*) FROM checkin_event WHERE kind = 'checked_in'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let signals = || -> i64 {
        database
            .reader()
            .query_row(
                "SELECT COUNT(*) FROM team_outbox WHERE kind = 'duress'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    invoke(
        &app,
        "lock_set_pin",
        json!({"pin": "2468", "pinAgain": "2468"}),
    )
    .unwrap();
    // Locked without a duress PIN: "I'm OK" as before, no PIN asked.
    invoke(&app, "lock_now", json!({})).unwrap();
    invoke(&app, "checkins_check_in", json!({"sessionId": id})).unwrap();
    assert_eq!(check_ins(), 1);
    invoke(&app, "lock_unlock", json!({"pin": "2468"})).unwrap();
    invoke(
        &app,
        "lock_set_duress_pin",
        json!({"duressPin": "8642", "duressPinAgain": "8642"}),
    )
    .unwrap();
    // Unlocked: still no PIN.
    invoke(&app, "checkins_check_in", json!({"sessionId": id})).unwrap();
    assert_eq!(check_ins(), 2);
    invoke(&app, "lock_now", json!({})).unwrap();
    for (pin, code) in [
        (Value::Null, "pin_needed"),
        (json!(""), "pin_needed"),
        (json!("1111"), "wrong_pin"),
        (json!("x".repeat(100_000)), "wrong_pin"),
        (json!(2468), "invalid_arguments"),
        (json!(["2468"]), "invalid_arguments"),
    ] {
        let error = invoke(
            &app,
            "checkins_check_in",
            json!({"sessionId": id, "pin": pin}),
        )
        .expect_err("refused");
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(error["field"], "pin", "{error}");
        assert!(
            error["message"].as_str().unwrap().starts_with("PIN"),
            "{error}"
        );
    }
    assert_eq!((check_ins(), signals()), (2, 0), "nothing changed");
    let with_pin = invoke(
        &app,
        "checkins_check_in",
        json!({"sessionId": id, "pin": "2468"}),
    )
    .unwrap();
    assert_eq!((check_ins(), signals()), (3, 0));
    let under_duress = invoke(
        &app,
        "checkins_check_in",
        json!({"sessionId": id, "pin": "8642"}),
    )
    .unwrap();
    assert_eq!(
        (check_ins(), signals()),
        (4, 1),
        "checked in, and the team told"
    );
    assert_eq!(
        invoke(&app, "lock_status", json!({})).unwrap()["locked"],
        true,
        "checking in opens nothing"
    );
    // The screen answers the same: the same session, its duress shown nowhere on it.
    for page in [&with_pin, &under_duress] {
        assert_eq!(page["duress"], Value::Null, "{page}");
        assert_eq!(page["id"], id);
    }
    assert_eq!(
        invoke(&app, "alarms_open", json!({})).unwrap()["alarms"],
        json!([])
    );
}

/// The status after unlocking with the PIN, as it reads once a duress PIN is set: unlocking
/// with the duress PIN must answer exactly this.
fn with_pin_but_duress_set(mut status: Value) -> Value {
    status["duressPinSet"] = json!(true);
    status
}

#[test]
fn a_record_moved_from_the_keyring_to_a_passphrase_asks_for_it_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = start_app(dir.path());
        assert_eq!(
            invoke(&app, "app_status", json!({})).unwrap()["keyKeptIn"],
            "keyring"
        );
        invoke(&app, "contacts_save", json!({"role": "election-coordinator", "name": "Priya Shah", "phone": "01632 960 123", "notes": ""})).unwrap();
        let error = invoke(
            &app,
            "keep_key_under_passphrase",
            json!({"passphrase": "a long passphrase", "passphraseAgain": "other"}),
        )
        .unwrap_err();
        assert_eq!(error["field"], "passphraseAgain", "{error}");
        invoke(
            &app,
            "keep_key_under_passphrase",
            json!({"passphrase": "a long passphrase", "passphraseAgain": "a long passphrase"}),
        )
        .unwrap();
        assert_eq!(
            invoke(&app, "app_status", json!({})).unwrap()["keyKeptIn"],
            "passphrase"
        );
    }
    let app = start_app(dir.path());
    let status = invoke(&app, "app_status", json!({})).unwrap();
    assert_eq!(status["passphrase"]["mode"], "enter", "{status}");
    invoke(
        &app,
        "unlock_record",
        json!({"passphrase": "a long passphrase"}),
    )
    .unwrap();
    wait_until_open(&app);
    assert!(invoke(&app, "contacts_list", json!({}))
        .unwrap()
        .to_string()
        .contains("Priya Shah"));
}

/// The modules depend on each other one way: domains never on the relay, the relay never
/// writing their tables (scripts/import_circles.py).
#[test]
fn the_app_s_modules_have_no_import_circles() {
    let output = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/import_circles.py"
        ))
        .output()
        .expect("python3 (make test installs it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
