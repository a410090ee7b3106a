//! A recording org.freedesktop.Notifications server on a private D-Bus session bus: it keeps
//! what the app sends and closes, and answers as a desktop would (a button pressed, a notice
//! dismissed or timed out), so tests can drive the app's notifications for real.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

#[derive(Debug, Clone)]
pub struct Sent {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    pub urgency: Option<u8>,
    pub expire_timeout: i32,
}

#[derive(Default)]
struct Log {
    sent: Vec<Sent>,
    closed: Vec<u32>,
    /// Close without the NotificationClosed signal: as if it came before anyone listened.
    closes_silently: bool,
}

struct Recorder {
    log: Arc<Mutex<Log>>,
    draws_buttons: bool,
}

const PATH: &str = "/org/freedesktop/Notifications";
const WAIT: Duration = Duration::from_secs(15);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    fn get_capabilities(&self) -> Vec<String> {
        let mut capabilities = vec!["body".to_owned()];
        if self.draws_buttons {
            capabilities.push("actions".into());
        }
        capabilities
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        expire_timeout: i32,
    ) -> u32 {
        let mut log = self.log.lock().unwrap();
        let id = log.sent.len() as u32 + 1;
        let urgency = hints
            .get("urgency")
            .and_then(|value| u8::try_from(value.try_clone().ok()?).ok());
        log.sent.push(Sent {
            id,
            app_name,
            summary,
            body,
            actions,
            urgency,
            expire_timeout,
        });
        id
    }

    /// As the specification says: the notice goes, and NotificationClosed says why (3).
    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) {
        let silent = {
            let mut log = self.log.lock().unwrap();
            log.closed.push(id);
            log.closes_silently
        };
        if !silent {
            let _ = Self::notification_closed(&emitter, id, 3).await;
        }
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "recorder".into(),
            "campaign-safe-tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// Runs `work` on a thread of its own: zbus's blocking calls start a runtime, which tokio
/// refuses inside an async test.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("D-Bus work"))
}

pub struct NotificationServer {
    log: Arc<Mutex<Log>>,
    connection: zbus::blocking::Connection,
}

impl NotificationServer {
    /// Serves on the bus at `address`; `draws_buttons: false` is a daemon like dunst.
    pub fn start(address: &str, draws_buttons: bool) -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let connection = off_runtime(|| {
            zbus::blocking::connection::Builder::address(address)
                .expect("bus address")
                .name("org.freedesktop.Notifications")
                .expect("name")
                .serve_at(
                    PATH,
                    Recorder {
                        log: log.clone(),
                        draws_buttons,
                    },
                )
                .expect("serve")
                .build()
                .expect("recording notification server on the private bus")
        });
        Self { log, connection }
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.log.lock().unwrap().sent.clone()
    }

    /// From now on, closes notices without saying so (see `Log::closes_silently`).
    pub fn close_silently(&self, silent: bool) {
        self.log.lock().unwrap().closes_silently = silent;
    }

    pub fn closed(&self) -> Vec<u32> {
        self.log.lock().unwrap().closed.clone()
    }

    /// Waits for a notice whose summary contains `summary`, the newest such.
    pub fn wait_for(&self, summary: &str) -> Sent {
        let deadline = Instant::now() + WAIT;
        loop {
            let sent = self.sent();
            if let Some(found) = sent.iter().rev().find(|s| s.summary.contains(summary)) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no notice “{summary}” arrived; the server got: {:?}",
                sent.iter().map(|s| &s.summary).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until notice `id` has been closed by the app.
    pub fn wait_closed(&self, id: u32) {
        let deadline = Instant::now() + WAIT;
        while !self.closed().contains(&id) {
            assert!(
                Instant::now() < deadline,
                "notice {id} was never closed; closed: {:?}",
                self.closed()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn emitter(&self) -> SignalEmitter<'_> {
        SignalEmitter::new(self.connection.inner(), PATH).expect("emitter")
    }

    /// The person pressed a button (or, with "default", clicked the notice), repeated until
    /// `done` says the app took it: the app starts listening for answers only once the
    /// notice is up, and a signal sent before that reaches nobody. The app acts on one
    /// answer per notice, so a repeat is never applied twice.
    pub fn press(&self, id: u32, action: &str, done: impl Fn() -> bool) {
        self.signal_until(
            done,
            &format!("pressing “{action}” on notice {id}"),
            || {
                off_runtime(|| {
                    zbus::block_on(Recorder::action_invoked(&self.emitter(), id, action))
                })
            },
        );
    }

    /// The desktop took the notice away: 1 timed out, 2 dismissed by the person.
    pub fn drop_notice(&self, id: u32, reason: u32, done: impl Fn() -> bool) {
        self.signal_until(done, &format!("closing notice {id} ({reason})"), || {
            off_runtime(|| {
                zbus::block_on(Recorder::notification_closed(&self.emitter(), id, reason))
            })
        });
    }

    fn signal_until(
        &self,
        done: impl Fn() -> bool,
        what: &str,
        send: impl Fn() -> zbus::Result<()>,
    ) {
        let deadline = Instant::now() + WAIT;
        loop {
            send().expect("signal");
            let retry = Instant::now() + Duration::from_millis(500);
            while Instant::now() < retry {
                if done() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(Instant::now() < deadline, "the app never took {what}");
        }
    }
}
