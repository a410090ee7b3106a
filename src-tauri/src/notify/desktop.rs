//! Real notifications through the desktop's notification service: notify-rust over zbus,
//! on the app's tokio runtime. It has no threads of its own and nothing that wakes while no
//! notice is out.
//!
//! The daemon's numbers for the notices that are up are kept in a small file beside the
//! record, so the next start can take down what an earlier run left (it crashed, or was
//! killed): after a restart the desktop shows exactly the open alarms.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify_rust::{CloseReason, Notification, NotificationHandle, NotificationResponse, Timeout};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use super::{Notice, NoticeId, Notifier, NotifyError, OnResponse, Response, Urgency};

/// How a person answers a notice on this desktop, from its name and capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answering {
    /// The daemon draws the notice's buttons.
    Buttons,
    /// dunst: a left click only closes the notice; a middle click (or its menu) answers.
    MiddleClick,
    /// Daemons that draw no buttons but open the notice on a click (mako).
    Click,
    /// No actions at all: the notice can only send people to the app.
    OpenTheApp,
}

impl Answering {
    pub fn of(server_name: &str, capabilities: &[String]) -> Self {
        if !capabilities.iter().any(|c| c == "actions") {
            return Self::OpenTheApp;
        }
        match server_name.to_lowercase().as_str() {
            "dunst" => Self::MiddleClick,
            "mako" | "swaync-lite" | "notify-osd" => Self::Click,
            _ => Self::Buttons,
        }
    }

    /// The sentence that tells a person how to answer, or nothing where buttons show.
    pub fn sentence(self, task: &str) -> Option<String> {
        match self {
            Self::Buttons => None,
            Self::MiddleClick => Some(format!(
                "Middle-click this notice, or choose “Open Campaign Safe” from its menu, to open Campaign Safe and {task}."
            )),
            Self::Click => Some(format!("Click this notice to open Campaign Safe and {task}.")),
            Self::OpenTheApp => Some(format!("Open Campaign Safe to {task}.")),
        }
    }
}

/// The file beside the record that lists the daemon's numbers of the notices up now.
const SHOWN_FILE: &str = "notices-shown";
/// Quitting waits at most this long for the desktop to take the notices down.
const CLOSE_AT_QUIT: Duration = Duration::from_secs(2);

/// Where a notice is: still being sent, or shown with its handle (kept alive until it is
/// answered: dropping it makes some desktops discard the notice at once).
enum Slot {
    Sending {
        close_requested: bool,
    },
    /// `closing` wakes the notice's own task, which takes it down and answers for it.
    Shown {
        handle: Arc<NotificationHandle>,
        closing: Arc<tokio::sync::Notify>,
    },
}

type Slots = Arc<Mutex<HashMap<NoticeId, Slot>>>;

pub struct DesktopNotifier {
    app_name: String,
    runtime: Handle,
    next_id: AtomicU64,
    slots: Slots,
    answering: Arc<OnceCell<Answering>>,
    /// The file for the daemon's numbers, once the app knows its data folder.
    track_in: Arc<Mutex<Option<PathBuf>>>,
    /// Set once the earlier run's notices are down: every notice waits for that first.
    kept: Arc<OnceCell<Option<PathBuf>>>,
}

/// The file the numbers are kept in, after taking down what an earlier run left there.
async fn leftovers_closed(
    kept: &OnceCell<Option<PathBuf>>,
    track_in: &Mutex<Option<PathBuf>>,
) -> Option<PathBuf> {
    kept.get_or_init(|| async {
        let path = track_in.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(path) = &path {
            close_leftovers(path).await;
        }
        path
    })
    .await
    .clone()
}

impl DesktopNotifier {
    /// `runtime` runs the D-Bus traffic; the app passes its own tokio runtime.
    pub fn new(app_name: impl Into<String>, runtime: Handle) -> Self {
        Self {
            app_name: app_name.into(),
            runtime,
            next_id: AtomicU64::new(1),
            slots: Arc::default(),
            answering: Arc::default(),
            track_in: Arc::default(),
            kept: Arc::default(),
        }
    }

    /// The daemon's numbers of the notices shown, as kept in the file.
    fn shown_ids(slots: &Slots) -> Vec<u32> {
        lock(slots)
            .values()
            .filter_map(|slot| match slot {
                Slot::Shown { handle, .. } => Some(handle.id()),
                Slot::Sending { .. } => None,
            })
            .collect()
    }
}

/// Writes the numbers of the notices up now; a failure costs only the clean-up next time.
fn write_shown(path: &Path, ids: &[u32]) {
    let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
    if let Err(error) = std::fs::write(path, text) {
        tracing::warn!("could not note the notices shown: {error}");
    }
}

/// The most of the kept file that is read: far more than the numbers of every open alarm.
const SHOWN_FILE_MOST: u64 = 16 * 1024;

/// The numbers kept in `path`: a damaged, huge or strange file (a folder, a pipe, words,
/// numbers out of range) gives what can be read of it and never blocks or fails the start.
async fn read_shown(path: &Path) -> Vec<u32> {
    use tokio::io::AsyncReadExt;
    let Ok(meta) = tokio::fs::symlink_metadata(path).await else {
        return Vec::new();
    };
    if !meta.is_file() {
        tracing::warn!(path = %path.display(), "the notices file is not a file; ignored");
        return Vec::new();
    }
    let mut text = String::new();
    if let Ok(file) = tokio::fs::File::open(path).await {
        let mut bytes = Vec::new();
        let _ = file.take(SHOWN_FILE_MOST).read_to_end(&mut bytes).await;
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    parse_shown(&text)
}

fn parse_shown(text: &str) -> Vec<u32> {
    text.lines()
        .take(500)
        .filter_map(|line| line.trim().parse::<u32>().ok())
        .filter(|id| *id != 0)
        .collect()
}

/// Takes down the notices an earlier run left up, by the numbers it kept.
async fn close_leftovers(path: &Path) {
    let ids = read_shown(path).await;
    if !ids.is_empty() {
        match zbus::Connection::session().await {
            Ok(connection) => {
                for id in &ids {
                    let closed = connection
                        .call_method(
                            Some("org.freedesktop.Notifications"),
                            "/org/freedesktop/Notifications",
                            Some("org.freedesktop.Notifications"),
                            "CloseNotification",
                            &(*id,),
                        )
                        .await;
                    if let Err(error) = closed {
                        tracing::debug!(id, "an earlier notice was already gone: {error}");
                    }
                }
                tracing::info!(
                    count = ids.len(),
                    "took down the notices an earlier run left"
                );
            }
            Err(error) => {
                tracing::warn!("could not reach the desktop to take down earlier notices: {error}")
            }
        }
    }
    let _ = tokio::fs::remove_file(path).await;
}

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, HashMap<NoticeId, Slot>> {
    slots
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Asks the daemon once what it is and whether it draws buttons.
async fn ask_the_daemon() -> Answering {
    let asked = tokio::task::spawn_blocking(|| {
        let capabilities = notify_rust::get_capabilities().unwrap_or_default();
        let name = notify_rust::get_server_information()
            .map(|info| info.name)
            .unwrap_or_default();
        let answering = Answering::of(&name, &capabilities);
        tracing::info!(daemon = %name, ?capabilities, ?answering, "desktop notifications");
        answering
    })
    .await;
    asked.unwrap_or(Answering::OpenTheApp)
}

fn build(app_name: &str, notice: &Notice, answering: Answering) -> Notification {
    let mut notification = Notification::new();
    let body = match answering.sentence(&notice.in_app_task) {
        Some(how) if !notice.in_app_task.is_empty() => format!("{}\n{how}", notice.body),
        _ => notice.body.clone(),
    };
    notification
        .appname(app_name)
        .summary(&notice.summary)
        .body(&body)
        // The notice's own action (a click, dunst's middle click) opens the app on it.
        .action("default", "Open Campaign Safe")
        // An alarm waits until it is answered: it never times out by itself.
        .timeout(Timeout::Never)
        .urgency(match notice.urgency {
            Urgency::Low => notify_rust::Urgency::Low,
            Urgency::Normal => notify_rust::Urgency::Normal,
            Urgency::Critical => notify_rust::Urgency::Critical,
        });
    for action in &notice.actions {
        notification.action(&action.key, &action.label);
    }
    notification
}

fn response_of(answer: &NotificationResponse) -> Response {
    match answer {
        NotificationResponse::Default => Response::Clicked,
        NotificationResponse::Action(key) if key == "default" => Response::Clicked,
        NotificationResponse::Action(key) => Response::Action(key.clone()),
        NotificationResponse::Closed(CloseReason::Dismissed) => Response::Dismissed,
        NotificationResponse::Closed(CloseReason::CloseAction) => Response::ClosedByApp,
        NotificationResponse::Closed(_) => Response::Expired,
        #[allow(unreachable_patterns)]
        _ => Response::Expired,
    }
}

impl Notifier for DesktopNotifier {
    fn show(&self, notice: &Notice, on_response: OnResponse) -> Result<NoticeId, NotifyError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.slots).insert(
            id,
            Slot::Sending {
                close_requested: false,
            },
        );
        let (slots, app_name, notice, answering, kept, track_in) = (
            self.slots.clone(),
            self.app_name.clone(),
            notice.clone(),
            self.answering.clone(),
            self.kept.clone(),
            self.track_in.clone(),
        );
        let respond = |response: Response| {
            // The answer touches the database: keep it off the runtime's worker threads.
            tokio::task::spawn_blocking(move || on_response(response));
        };
        self.runtime.spawn(async move {
            // An earlier run's notices come down first: their numbers are not ours.
            let kept = leftovers_closed(&kept, &track_in).await;
            let answering = *answering.get_or_init(ask_the_daemon).await;
            let handle = match build(&app_name, &notice, answering).show_async().await {
                Ok(handle) => Arc::new(handle),
                Err(error) => {
                    lock(&slots).remove(&id);
                    respond(Response::Failed(error.to_string()));
                    return;
                }
            };
            let closing = Arc::new(tokio::sync::Notify::new());
            let shown = Slot::Shown {
                handle: handle.clone(),
                closing: closing.clone(),
            };
            let close_now = match lock(&slots).insert(id, shown) {
                Some(Slot::Sending { close_requested }) => close_requested,
                _ => false,
            };
            if let Some(path) = &kept {
                write_shown(path, &DesktopNotifier::shown_ids(&slots));
            }
            let mut answer = Response::Expired;
            // Closed by the app: answered here. Its NotificationClosed signal can come before
            // the wait below listens for it (a check-in right after the notice went up), and
            // would then be lost, with the notice's answer.
            let closed_by_app = close_now
                || tokio::select! {
                    _ = handle.wait_for_action_async(|response| answer = response_of(response)) => false,
                    _ = closing.notified() => true,
                };
            if closed_by_app {
                handle.close_async().await;
                answer = Response::ClosedByApp;
            }
            // An answered notice is taken down here, not left to the daemon: some keep
            // notices with actions on screen after a button is pressed.
            if matches!(answer, Response::Action(_) | Response::Clicked) {
                handle.close_async().await;
            }
            lock(&slots).remove(&id);
            if let Some(path) = &kept {
                write_shown(path, &DesktopNotifier::shown_ids(&slots));
            }
            respond(answer);
        });
        Ok(id)
    }

    fn keep_track_in(&self, data_dir: &Path) {
        *self.track_in.lock().unwrap_or_else(|p| p.into_inner()) = Some(data_dir.join(SHOWN_FILE));
        let (kept, track_in) = (self.kept.clone(), self.track_in.clone());
        self.runtime.spawn(async move {
            leftovers_closed(&kept, &track_in).await;
        });
    }

    /// Takes every notice down before the app quits, waiting a little for the desktop.
    fn close_all(&self) {
        let handles: Vec<Arc<NotificationHandle>> = lock(&self.slots)
            .values()
            .filter_map(|slot| match slot {
                Slot::Shown { handle, .. } => Some(handle.clone()),
                Slot::Sending { .. } => None,
            })
            .collect();
        let kept = self.kept.get().cloned().flatten();
        tracing::info!(
            count = handles.len(),
            "taking the notices down: the app is quitting"
        );
        let runtime = self.runtime.clone();
        // On a thread of its own: the caller may be on the runtime.
        let closing = std::thread::spawn(move || {
            runtime.block_on(async {
                let all = async {
                    for handle in &handles {
                        handle.close_async().await;
                    }
                };
                if tokio::time::timeout(CLOSE_AT_QUIT, all).await.is_ok() {
                    if let Some(path) = kept {
                        let _ = std::fs::remove_file(path);
                    }
                }
            })
        });
        let _ = closing.join();
    }

    fn close(&self, id: NoticeId) {
        let mut slots = lock(&self.slots);
        match slots.get_mut(&id) {
            Some(Slot::Sending { close_requested }) => *close_requested = true,
            // A permit is kept if the task is not waiting yet.
            Some(Slot::Shown { closing, .. }) => closing.notify_one(),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_desktop_is_told_how_to_answer_there() {
        let with_actions = vec!["actions".to_owned(), "body".to_owned()];
        assert_eq!(
            Answering::of("dunst", &with_actions),
            Answering::MiddleClick
        );
        assert_eq!(Answering::of("mako", &with_actions), Answering::Click);
        assert_eq!(
            Answering::of("GNOME Shell", &with_actions),
            Answering::Buttons
        );
        assert_eq!(
            Answering::of("dunst", &["body".to_owned()]),
            Answering::OpenTheApp
        );
        assert_eq!(Answering::Buttons.sentence("check in"), None);
        assert!(Answering::MiddleClick
            .sentence("check in")
            .is_some_and(|s| s.starts_with("Middle-click") && s.ends_with("and check in.")));
    }

    #[test]
    fn a_damaged_or_hostile_notices_file_gives_only_real_numbers() {
        let hostile = format!(
            "12\n-5\n4294967296\n0\n\u{0}\nseven\n {max} \n{}",
            "9".repeat(10_000),
            max = u32::MAX
        );
        assert_eq!(parse_shown(&hostile), [12, u32::MAX]);
        assert_eq!(parse_shown(&"1\n".repeat(10_000)).len(), 500);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be, a missing file, a file far past the cap.
        std::fs::create_dir(dir.path().join("folder")).unwrap();
        assert!(runtime
            .block_on(read_shown(&dir.path().join("folder")))
            .is_empty());
        assert!(runtime
            .block_on(read_shown(&dir.path().join("missing")))
            .is_empty());
        let big = dir.path().join("big");
        std::fs::write(&big, "3\n".repeat(1_000_000)).unwrap();
        assert_eq!(runtime.block_on(read_shown(&big)).len(), 500);
    }
}
