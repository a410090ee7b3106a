//! The real app in a real window: Xvfb, a private D-Bus session bus, tauri-driver with
//! WebKitWebDriver, and the debug binary cargo built for this test run. `make test` installs
//! all of them.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub const APP_BINARY: &str = env!("CARGO_BIN_EXE_campaign-safe");
const DATA_DIR_ENV: &str = "CAMPAIGN_SAFE_DATA_DIR";
pub mod axe;
pub mod dunst;
pub mod keyboard;
pub mod notification_server;
pub mod secrets;

const WAIT: Duration = Duration::from_secs(15);

/// One window at a time: two WebKit instances on a 2-core machine make timing flaky.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where screenshots go: target/e2e/.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("e2e");
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    dir
}

/// An X display and a D-Bus session bus of our own, so nothing leaks to or from the host.
pub struct Desktop {
    /// The Secret Service that keeps each record's key; absent to see the app without one.
    pub keyring: Option<secrets::SecretServiceDaemon>,
    _bus_dir: tempfile::TempDir,
    xvfb: Child,
    dbus: Child,
    _pipes: Vec<BufReader<ChildStdout>>,
    pub display: String,
    pub bus: String,
}

fn first_line(child: &mut Child, what: &str) -> (String, BufReader<ChildStdout>) {
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("reading {what}: {e}"));
    assert!(
        !line.trim().is_empty(),
        "{what} printed nothing; is it installed? (make test installs it)"
    );
    (line.trim().to_owned(), reader)
}

impl Desktop {
    /// A desktop with a Secret Service, as a logged-in user has.
    pub fn start() -> Self {
        let mut desktop = Self::start_without_keyring();
        desktop.keyring = Some(secrets::SecretServiceDaemon::start(&desktop.bus));
        desktop
    }

    /// The record's key as the desktop's keyring keeps it.
    pub fn record_key(&self, data_dir: &Path) -> campaign_safe_lib::vault::DataKey {
        use campaign_safe_lib::vault::{record_name, Keyring};
        secrets::BusKeyring::on(&self.bus)
            .load(&record_name(data_dir))
            .expect("the keyring answers")
            .expect("the keyring holds the record's key")
    }

    /// A record made before the app starts, its key in this desktop's keyring as the app
    /// would have put it there.
    pub fn new_record(&self, data_dir: &Path) -> campaign_safe_lib::storage::Database {
        use campaign_safe_lib::vault::{at_start, AtStart};
        let keyring = secrets::BusKeyring::on(&self.bus);
        match at_start(
            data_dir,
            &keyring,
            campaign_safe_lib::storage::holds_encrypted_record(data_dir),
        )
        .expect("a key for the record")
        {
            AtStart::Ready(key) => {
                campaign_safe_lib::storage::Database::open_in(data_dir, &key).expect("database")
            }
            other => panic!("the desktop's keyring did not keep a key: {other:?}"),
        }
    }

    /// The record in `data_dir`, opened with the key this desktop's keyring keeps, as SQLite
    /// sees it: for checking what the app stored.
    pub fn open_record(&self, data_dir: &Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(data_dir.join("campaign-safe.sqlite3"))
            .expect("open the record");
        conn.pragma_update(
            None,
            "key",
            self.record_key(data_dir).sqlcipher_key().as_str(),
        )
        .expect("key the record");
        conn
    }

    /// An X display and a bus, and no Secret Service on it.
    pub fn start_without_keyring() -> Self {
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed: run `make test`, which installs it");
        let (display, xvfb_pipe) = first_line(&mut xvfb, "Xvfb");
        let bus_dir = tempfile::tempdir().expect("bus folder");
        let mut dbus = secrets::quiet_session_bus(bus_dir.path())
            .spawn()
            .expect("dbus-daemon must be installed: run `make test`");
        let (bus, dbus_pipe) = first_line(&mut dbus, "dbus-daemon");
        Self {
            keyring: None,
            _bus_dir: bus_dir,
            xvfb,
            dbus,
            _pipes: vec![xvfb_pipe, dbus_pipe],
            display: format!(":{display}"),
            bus,
        }
    }

    /// The environment the app runs in: this display and bus, and its own data folder.
    pub fn app_env(&self, data_dir: &Path) -> Vec<(String, String)> {
        vec![
            ("DISPLAY".into(), self.display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus.clone()),
            (DATA_DIR_ENV.into(), data_dir.display().to_string()),
            // Cheap insurance against blank windows with software GL (tauri#15936).
            ("WEBKIT_DISABLE_COMPOSITING_MODE".into(), "1".into()),
            ("NO_AT_BRIDGE".into(), "1".into()),
        ]
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        drop(self.keyring.take());
        for child in [&mut self.dbus, &mut self.xvfb] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts a canvass that began `minutes_ago`, checking in every 30 minutes with 10 minutes'
/// grace: from 40 minutes ago it has been missed.
pub fn seed_session(
    desktop: &Desktop,
    data: &Path,
    title: &str,
    people: &[&str],
    mode: campaign_safe_lib::checkins::Mode,
    minutes_ago: i64,
) -> i64 {
    let database = desktop.new_record(data);
    let started = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    let new = campaign_safe_lib::checkins::NewSession {
        kind: campaign_safe_lib::checkins::Kind::Canvass,
        mode,
        title: title.into(),
        participants: people.iter().map(|p| (*p).to_owned()).collect(),
        place: "Elm Road".into(),
        notes: String::new(),
        escalation: vec![campaign_safe_lib::checkins::EscalationContact {
            name: "Campaign office".into(),
            phone: "01632 960 123".into(),
            relationship: String::new(),
        }],
        ends_at: Some(started + chrono::Duration::hours(4)),
        interval_minutes: Some(30),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    };
    let id = campaign_safe_lib::checkins::start(
        &mut database.conn(),
        &new,
        started,
        &campaign_safe_lib::checkins::Actor::here(),
        &campaign_safe_lib::checkins::NoSink,
    )
    .expect("session");
    id
}

/// Turns the encrypted record at `db_path` back into what an earlier version left: a plain
/// SQLite file at schema `version`.
pub fn make_earlier_version(
    db_path: &Path,
    key: &campaign_safe_lib::vault::DataKey,
    version: usize,
) {
    let plain = db_path.with_extension("plain");
    {
        let conn = rusqlite::Connection::open(db_path).expect("open");
        conn.pragma_update(None, "key", key.sqlcipher_key().as_str())
            .expect("key");
        conn.execute(
            "ATTACH DATABASE ?1 AS plain KEY ''",
            [plain.to_str().expect("a UTF-8 path")],
        )
        .expect("attach");
        conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
            .expect("export");
        conn.execute_batch(&format!(
            "PRAGMA plain.user_version = {version}; DETACH DATABASE plain;"
        ))
        .expect("version");
    }
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", db_path.display()));
    }
    std::fs::rename(&plain, db_path).expect("replace");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn terminate(child: &mut Child) {
    // SIGTERM, not SIGKILL: tauri-driver then stops WebKitWebDriver and frees its port.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// tauri-driver on free ports, launching the app with the desktop's environment.
pub struct Driver {
    child: Child,
    port: u16,
    data_dir: PathBuf,
    display: String,
}

pub fn tauri_driver_path() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let installed = cargo_home.join("bin").join("tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// A step of start-up that a debug build holds until the test lets it go
/// (src-tauri/src/test_hooks.rs), so the test sees the window meanwhile.
pub enum Hold {
    /// Reading the record's key, as a keyring asking to be unlocked would.
    KeyReading,
    /// Opening (or upgrading) the record, once its key is known.
    RecordOpening,
}

impl Driver {
    pub fn start(desktop: &Desktop, data_dir: &Path) -> Self {
        Self::start_with(desktop, data_dir, &[])
    }

    /// With `hold` waiting for a file in the data folder; writing the returned file lets it go.
    pub fn start_holding(desktop: &Desktop, data_dir: &Path, hold: Hold) -> (Self, PathBuf) {
        let (variable, file) = match hold {
            Hold::KeyReading => ("CAMPAIGN_SAFE_TEST_HOLD_KEY", "release-key"),
            Hold::RecordOpening => ("CAMPAIGN_SAFE_TEST_HOLD_RECORD", "release-record"),
        };
        let release = data_dir.join(file);
        let path = release.to_str().expect("a UTF-8 data folder");
        (
            Self::start_with(desktop, data_dir, &[(variable, path)]),
            release,
        )
    }

    /// With extra environment for the app, e.g. a debug-build clock offset.
    pub fn start_with(desktop: &Desktop, data_dir: &Path, extra_env: &[(&str, &str)]) -> Self {
        let (port, native_port) = (free_port(), free_port());
        let log = std::fs::File::create(screenshot_dir().join(format!("tauri-driver-{port}.log")))
            .expect("log file");
        let child = Command::new(tauri_driver_path())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(desktop.app_env(data_dir))
            .envs(extra_env.iter().copied())
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("tauri-driver must be installed: run `make test`, which installs it");
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not start listening on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            data_dir: data_dir.to_owned(),
            display: desktop.display.clone(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        terminate(&mut self.child);
        // A test that already failed must report its own failure, not a second panic here.
        if !std::thread::panicking() {
            wait_for_app_exit(&self.data_dir);
        }
    }
}

/// A fresh data folder, display, bus and driver for one test. Fields drop in this order:
/// the driver (closing the app), then the display and bus, then the data folder.
pub struct Harness {
    pub driver: Driver,
    // Held only so they outlive the app the driver closes.
    _desktop: Desktop,
    _data: tempfile::TempDir,
}

impl Harness {
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    pub fn desktop(&self) -> &Desktop {
        &self._desktop
    }

    /// Everything the app wrote to its log files.
    pub fn logs(&self) -> String {
        std::fs::read_dir(self.data_dir().join("logs"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn start() -> Self {
        let data = tempfile::tempdir().expect("temporary data folder");
        let desktop = Desktop::start();
        let driver = Driver::start(&desktop, data.path());
        Self {
            driver,
            _desktop: desktop,
            _data: data,
        }
    }
}

/// Processes of this app binary that use `data_dir`.
pub fn app_pids(data_dir: &Path) -> Vec<u32> {
    let marker = format!("{DATA_DIR_ENV}={}", data_dir.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            // The built binary, or the same program installed from the package.
            exe.is_some_and(|exe| exe.file_name() == Path::new(APP_BINARY).file_name())
                && environ
                    .split(|b| *b == 0)
                    .any(|var| var == marker.as_bytes())
        })
        .collect()
}

pub fn wait_for_app_exit(data_dir: &Path) {
    let deadline = Instant::now() + WAIT;
    while !app_pids(data_dir).is_empty() {
        assert!(Instant::now() < deadline, "the app did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The element found was replaced by the page before it was used (WebKitWebDriver says
/// the node "was not found"; the standard says "stale element reference").
fn redrawn(error: &fantoccini::error::CmdError) -> bool {
    let text = error.to_string();
    text.contains("was not found") || text.contains("stale element")
}

/// The app running in its window, driven over WebDriver.
pub struct App {
    pub client: Client,
    display: String,
}

impl App {
    pub async fn launch(driver: &Driver) -> Self {
        Self::launch_program(driver, Path::new(APP_BINARY)).await
    }

    /// As [`App::launch`], with another copy of the program (the installed one).
    pub async fn launch_program(driver: &Driver, program: &Path) -> Self {
        let app = Self::connect(driver, program).await;
        app.wait_for("main h1").await;
        app
    }

    /// The app's window, without waiting for its first screen.
    pub async fn launch_before_first_screen(driver: &Driver) -> Self {
        Self::connect(driver, Path::new(APP_BINARY)).await
    }

    async fn connect(driver: &Driver, program: &Path) -> Self {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("wry"));
        capabilities.insert("tauri:options".into(), json!({ "application": program }));
        // The native driver behind tauri-driver can refuse the very first session while it
        // starts up; a few tries with a pause cover that without hiding a real failure.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{}", driver.port))
                .await
            {
                Ok(client) => break client,
                Err(error) if attempt < 4 => {
                    eprintln!("WebDriver session attempt {attempt} failed: {error}; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => {
                    panic!("no WebDriver session with the app after {attempt} tries: {error}")
                }
            }
        };
        Self {
            client,
            display: driver.display.clone(),
        }
    }

    /// Ends the session; tauri-driver closes the app.
    pub async fn quit(self, driver: &Driver) {
        // WebKitWebDriver occasionally never answers the close; the app is then ended here
        // so the next launch starts clean.
        if tokio::time::timeout(Duration::from_secs(10), self.client.close())
            .await
            .is_err()
        {
            eprintln!("WebDriver did not close the session in 10 s; ending the app directly");
            for pid in app_pids(&driver.data_dir) {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
        }
        wait_for_app_exit(&driver.data_dir);
    }

    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// The element `css`, waited for: a screen's module loads when first opened, so right
    /// after `go` its controls may not be drawn yet (a CI run lost a click so).
    pub async fn find(&self, css: &str) -> Element {
        self.wait_for(css).await
    }

    /// Types `text` into the control `css`, after what it already holds. If the page
    /// redrew the control between finding and typing (a live list), it is found again.
    pub async fn type_in(&self, css: &str, text: &str) {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.find(css).await.send_keys(text).await {
                Ok(()) => return,
                Err(error) if tries < 5 && redrawn(&error) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("typing into {css}: {error}"),
            }
        }
    }

    /// Empties the control `css` and types `text` into it.
    pub async fn retype(&self, css: &str, text: &str) {
        self.js(&format!("document.querySelector({css:?}).value = ''"))
            .await;
        self.type_in(css, text).await;
    }

    /// Clicks like a person would: the element is first brought to the middle of the view,
    /// clear of the sticky top bar and the phone-width bottom navigation, which would
    /// otherwise take the click when the element sits under them.
    pub async fn click(&self, css: &str) {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.try_click(css).await {
                Ok(()) => return,
                Err(error) if tries < 5 && redrawn(&error) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("clicking {css}: {error}"),
            }
        }
    }

    async fn try_click(&self, css: &str) -> Result<(), fantoccini::error::CmdError> {
        let element = self.find(css).await;
        // An <option> is reached through its list, so the list is what comes into view.
        self.client
            .execute(
                "(arguments[0].closest('select') || arguments[0])
                    .scrollIntoView({block: 'center', inline: 'nearest'})",
                vec![json!(element)],
            )
            .await?;
        element.click().await
    }

    /// Resizes the window and waits until the page has laid out at the new width: the X
    /// server applies a resize some time after WebDriver answers.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize window");
        let deadline = Instant::now() + WAIT;
        loop {
            let inner = self.js("return window.innerWidth").await;
            if inner.as_u64() == Some(u64::from(width)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the window did not reach {width} px wide (it is {inner})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let painting settle at the new size.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script}: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap_or_default()
    }

    /// Waits until the element's text contains `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        self.wait_for_text_within(css, expected, WAIT).await
    }

    /// As `wait_for_text`, with a longer bound for what comes through a server (a team
    /// post on a loaded machine); it still ends as soon as the text is there.
    pub async fn wait_for_text_within(
        &self,
        css: &str,
        expected: &str,
        within: Duration,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(expected) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never contained “{expected}” within {within:?}; last text: “{text}”"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a form control's value is `expected`.
    pub async fn wait_for_value(&self, css: &str, expected: &str) {
        let script = format!("return document.querySelector({css:?})?.value ?? null");
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.js(&script).await;
            if value.as_str() == Some(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never held “{expected}”; last value: {value}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn heading(&self) -> String {
        self.text("main h1").await
    }

    pub async fn active_element_id(&self) -> String {
        self.js("return document.activeElement && document.activeElement.id || document.activeElement.tagName")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn go(&self, hash: &str) {
        self.js(&format!("location.hash = {}", json!(hash))).await;
    }

    /// Waits (up to a minute: a slow upgrade, a key derivation) until the element with
    /// `id` has left the page; `what` says what went wrong if it stays.
    pub async fn wait_until_gone(&self, id: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .js(&format!("return document.getElementById({id:?}) !== null"))
            .await
            == true
        {
            assert!(
                Instant::now() < deadline,
                "{what}; the page said: {}",
                self.text("body").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn press(&self, key: Key) {
        let element = self.client.active_element().await.expect("active element");
        element
            .send_keys(&char::from(key).to_string())
            .await
            .expect("send key");
    }

    /// Alt+E, the Emergency shortcut.
    pub async fn press_alt_e(&self) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down {
                value: Key::Alt.into(),
            })
            .then(KeyAction::Down { value: 'e' })
            .then(KeyAction::Up { value: 'e' })
            .then(KeyAction::Up {
                value: Key::Alt.into(),
            });
        self.client.perform_actions(keys).await.expect("Alt+E");
        self.client.release_actions().await.expect("release keys");
    }

    /// Saves `name-1280x800.png` and `name-360x740.png` under target/e2e/, captured from the
    /// X server (the real window as drawn), and checks that neither is blank.
    ///
    /// WebDriver's own screenshot command can wait forever on an idle page with
    /// WebKitWebDriver under Xvfb, so the X server is asked instead.
    pub async fn screenshots(&self, name: &str) {
        self.screenshots_of(name, None).await;
    }

    /// As [`App::screenshots`], with the element `css` brought to the middle of the view
    /// at each size, for a message or result further down the screen.
    pub async fn screenshots_of(&self, name: &str, css: Option<&str>) {
        for (width, height) in [(1280, 800), (360, 740)] {
            self.resize(width, height).await;
            if let Some(css) = css {
                self.js(&format!(
                    "document.querySelector({css:?}).scrollIntoView({{block: 'center'}})"
                ))
                .await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            self.screenshot(name).await;
        }
        self.resize(1280, 800).await;
    }

    /// Saves `name-WxH.png` at the window's present size, so what is focused or scrolled
    /// to stays as the user left it.
    pub async fn screenshot(&self, name: &str) {
        let (x, y, w, h) = self.client.get_window_rect().await.expect("window rect");
        let (w, h) = (w as u32, h as u32);
        let path = screenshot_dir().join(format!("{name}-{w}x{h}.png"));
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .args(["-crop", &format!("{w}x{h}+{}+{}", x as u32, y as u32)])
            .args(["+repage", &format!("png:{}", path.display())])
            .status()
            .expect("ImageMagick's import must be installed: run `make test`");
        assert!(status.success(), "capturing {name}");
        assert_not_blank(&std::fs::read(&path).expect("read screenshot"), name);
    }
}

/// A blank (single-colour) capture means the window did not render.
fn assert_not_blank(png_bytes: &[u8], name: &str) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("PNG data");
    let pixels = &buffer[..info.buffer_size()];
    let step = info.color_type.samples();
    let first = &pixels[..step];
    let differing = pixels.chunks(step).filter(|pixel| *pixel != first).count();
    assert!(differing > 1000, "screenshot {name} is blank");
}

/// Runs the real binary directly (no WebDriver), for start-up behaviour. Its stderr goes
/// to an `app-stderr-N.txt` in the data folder so a failed start can say why.
pub fn spawn_app(data_dir: &Path, envs: Vec<(String, String)>) -> Child {
    static LAUNCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = LAUNCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stderr =
        std::fs::File::create(data_dir.join(format!("app-stderr-{n}.txt"))).expect("stderr file");
    Command::new(APP_BINARY)
        .envs(envs)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start app")
}

pub fn stop(child: &mut Child) {
    terminate(child);
}

/// A cold first start (font caches, WebKit processes) on a busy 2-core CI machine can take
/// far longer than a warm one, so start-up gets its own, generous limit.
const START_WAIT: Duration = Duration::from_secs(90);

/// Waits until the app's log says `needle`; fails early, with the app's stderr, if it exits.
pub fn wait_for_log(child: &mut Child, data_dir: &Path, needle: &str) {
    let deadline = Instant::now() + START_WAIT;
    let stderr = || {
        let mut files: Vec<_> = std::fs::read_dir(data_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.retain(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("app-stderr-"))
        });
        files.sort();
        files
            .iter()
            .map(|path| std::fs::read_to_string(path).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    };
    loop {
        let found = std::fs::read_dir(data_dir.join("logs"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                std::fs::read_to_string(entry.path())
                    .unwrap_or_default()
                    .contains(needle)
            });
        if found {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the app exited ({status}) before its log said “{needle}”; stderr:\n{}",
                stderr()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the log never said “{needle}”; stderr:\n{}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
