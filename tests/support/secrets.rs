//! The tests' own Secret Service: gnome-keyring-daemon on the desktop's private session bus,
//! unlocked, with its keyrings in a temporary home. And a client of it, so a test can seed a
//! record's key before the app starts, or read it afterwards, as the app does.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use campaign_safe_lib::vault::{DataKey, Keyring, KeyringError};
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};

const SECRETS: &str = "org.freedesktop.secrets";
const KEYRING_SERVICE: &str = "uk.campaignsafe.app";

pub struct SecretServiceDaemon {
    child: Child,
    _home: tempfile::TempDir,
}

impl SecretServiceDaemon {
    /// Starts the keyring on `bus` and waits until it answers there.
    pub fn start(bus: &str) -> Self {
        let home = tempfile::tempdir().expect("keyring home");
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).expect("runtime dir");
        let mut child = Command::new("gnome-keyring-daemon")
            // The login password, from standard input: the login keyring is made with it,
            // unlocked, and becomes the default collection. (An empty one makes none.)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gnome-keyring-daemon must be installed: run `make test`");
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, b"campaign-safe-tests").expect("password");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let answers = || {
            off_runtime(|| {
                let connection = connect(bus);
                let dbus = zbus::blocking::fdo::DBusProxy::new(&connection).expect("bus proxy");
                let name = zbus::names::BusName::try_from(SECRETS).expect("name");
                dbus.name_has_owner(name).unwrap_or(false)
            })
        };
        while !answers() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut said = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut said));
                panic!("gnome-keyring-daemon exited ({status}) before it answered: {said}");
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not take {SECRETS} on the test bus within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, _home: home }
    }
}

impl Drop for SecretServiceDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// zbus's blocking calls run their own executor, which tokio refuses inside the async tests:
/// they run on a plain thread of their own.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("keyring call"))
}

fn connect(bus: &str) -> zbus::blocking::Connection {
    zbus::blocking::connection::Builder::address(bus)
        .and_then(|builder| builder.build())
        .expect("connect to the test bus")
}

/// The Secret Service on one bus, spoken to directly (plain session: it is a private bus).
pub struct BusKeyring {
    bus: String,
}

impl BusKeyring {
    pub fn on(bus: &str) -> Self {
        Self {
            bus: bus.to_owned(),
        }
    }
}

struct Client {
    connection: zbus::blocking::Connection,
}

impl Client {
    fn proxy(&self, path: &str, interface: &str) -> zbus::Result<zbus::blocking::Proxy<'static>> {
        zbus::blocking::Proxy::new(
            &self.connection,
            SECRETS,
            path.to_owned(),
            interface.to_owned(),
        )
    }

    fn session(&self) -> zbus::Result<OwnedObjectPath> {
        let service = self.proxy("/org/freedesktop/secrets", "org.freedesktop.Secret.Service")?;
        let (_, session): (OwnedValue, OwnedObjectPath) =
            service.call("OpenSession", &("plain", Value::from("")))?;
        Ok(session)
    }
}

fn failed(error: zbus::Error) -> KeyringError {
    KeyringError::failed(error.to_string())
}

impl Keyring for BusKeyring {
    fn load(&self, name: &str) -> Result<Option<DataKey>, KeyringError> {
        off_runtime(|| {
            Client {
                connection: connect(&self.bus),
            }
            .load(name)
        })
    }

    fn save(&self, name: &str, key: &DataKey) -> Result<(), KeyringError> {
        off_runtime(|| {
            Client {
                connection: connect(&self.bus),
            }
            .save(name, key)
        })
    }

    fn forget(&self, name: &str) -> Result<(), KeyringError> {
        off_runtime(|| {
            Client {
                connection: connect(&self.bus),
            }
            .forget(name)
        })
    }
}

impl Client {
    fn forget(&self, name: &str) -> Result<(), KeyringError> {
        let service = self
            .proxy("/org/freedesktop/secrets", "org.freedesktop.Secret.Service")
            .map_err(failed)?;
        let attributes = HashMap::from([("service", KEYRING_SERVICE), ("username", name)]);
        let (unlocked, _locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = service
            .call("SearchItems", &(attributes,))
            .map_err(failed)?;
        for item in unlocked {
            let item = self
                .proxy(item.as_str(), "org.freedesktop.Secret.Item")
                .map_err(failed)?;
            let _prompt: OwnedObjectPath = item.call("Delete", &()).map_err(failed)?;
        }
        Ok(())
    }

    fn load(&self, name: &str) -> Result<Option<DataKey>, KeyringError> {
        let service = self
            .proxy("/org/freedesktop/secrets", "org.freedesktop.Secret.Service")
            .map_err(failed)?;
        let attributes = HashMap::from([("service", KEYRING_SERVICE), ("username", name)]);
        let (unlocked, _locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = service
            .call("SearchItems", &(attributes,))
            .map_err(failed)?;
        let Some(item) = unlocked.first() else {
            return Ok(None);
        };
        let session = self.session().map_err(failed)?;
        let item = self
            .proxy(item.as_str(), "org.freedesktop.Secret.Item")
            .map_err(failed)?;
        let (_, _, secret, _): (OwnedObjectPath, Vec<u8>, Vec<u8>, String) =
            item.call("GetSecret", &(session,)).map_err(failed)?;
        DataKey::from_bytes(&secret)
            .map(Some)
            .ok_or_else(|| KeyringError::failed("not a key"))
    }

    fn save(&self, name: &str, key: &DataKey) -> Result<(), KeyringError> {
        let session = self.session().map_err(failed)?;
        let collection = self
            .proxy(
                "/org/freedesktop/secrets/aliases/default",
                "org.freedesktop.Secret.Collection",
            )
            .map_err(failed)?;
        let attributes = HashMap::from([("service", KEYRING_SERVICE), ("username", name)]);
        let properties = HashMap::from([
            (
                "org.freedesktop.Secret.Item.Label",
                Value::from("Campaign Safe record key"),
            ),
            (
                "org.freedesktop.Secret.Item.Attributes",
                Value::from(attributes),
            ),
        ]);
        let secret = (
            ObjectPath::from(&session),
            Vec::<u8>::new(),
            key.as_bytes().to_vec(),
            "application/octet-stream",
        );
        let _: (OwnedObjectPath, OwnedObjectPath) = collection
            .call("CreateItem", &(properties, secret, true))
            .map_err(failed)?;
        Ok(())
    }
}

/// `dbus-daemon` for a session bus in `dir` that starts nothing by itself: no service of
/// this machine (a keyring, a notification daemon) is activated behind a test's or a
/// benchmark's back. It prints its address on its first line of output.
pub fn quiet_session_bus(dir: &std::path::Path) -> Command {
    let config = dir.join("session.conf");
    std::fs::write(
        &config,
        format!(
            "<busconfig><type>session</type><listen>unix:dir={}</listen>\
             <auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\" \
             eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>\
             </busconfig>",
            dir.display()
        ),
    )
    .expect("bus config");
    let mut command = Command::new("dbus-daemon");
    command
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}
