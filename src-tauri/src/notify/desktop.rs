//! Real notifications through the desktop's notification service: notify-rust over zbus,
//! on the app's tokio runtime. It has no threads of its own and nothing that wakes while no
//! notice is out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use notify_rust::{CloseReason, Notification, NotificationHandle, NotificationResponse, Timeout};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use super::{Notice, NoticeId, Notifier, NotifyError, OnResponse, Response, Urgency};

/// Notification daemons that accept actions but draw no buttons for them (they offer them
/// only through a menu of their own), so the notice must also say how to answer.
const BUTTONLESS_DAEMONS: &[&str] = &["dunst", "mako", "notify-osd", "swaync-lite"];

/// Where a notice is: still being sent, or shown with its handle (kept alive until it is
/// answered: dropping it makes some desktops discard the notice at once).
enum Slot {
    Sending { close_requested: bool },
    Shown(Arc<NotificationHandle>),
}

type Slots = Arc<Mutex<HashMap<NoticeId, Slot>>>;

pub struct DesktopNotifier {
    app_name: String,
    runtime: Handle,
    next_id: AtomicU64,
    slots: Slots,
    draws_buttons: Arc<OnceCell<bool>>,
}

impl DesktopNotifier {
    /// `runtime` runs the D-Bus traffic; the app passes its own tokio runtime.
    pub fn new(app_name: impl Into<String>, runtime: Handle) -> Self {
        Self {
            app_name: app_name.into(),
            runtime,
            next_id: AtomicU64::new(1),
            slots: Arc::default(),
            draws_buttons: Arc::default(),
        }
    }
}

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, HashMap<NoticeId, Slot>> {
    slots
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Asks the daemon once whether it draws action buttons.
async fn draws_buttons() -> bool {
    let asked = tokio::task::spawn_blocking(|| {
        let capabilities = notify_rust::get_capabilities().unwrap_or_default();
        let name = notify_rust::get_server_information()
            .map(|info| info.name.to_lowercase())
            .unwrap_or_default();
        capabilities.iter().any(|c| c == "actions") && !BUTTONLESS_DAEMONS.contains(&name.as_str())
    })
    .await;
    asked.unwrap_or(false)
}

fn build(app_name: &str, notice: &Notice, buttons: bool) -> Notification {
    let mut notification = Notification::new();
    let body = if buttons || notice.without_buttons.is_empty() {
        notice.body.clone()
    } else {
        format!("{}\n{}", notice.body, notice.without_buttons)
    };
    notification
        .appname(app_name)
        .summary(&notice.summary)
        .body(&body)
        // Clicking the notice itself opens the app on what it is about.
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
        let (slots, app_name, notice, buttons) = (
            self.slots.clone(),
            self.app_name.clone(),
            notice.clone(),
            self.draws_buttons.clone(),
        );
        let respond = |response: Response| {
            // The answer touches the database: keep it off the runtime's worker threads.
            tokio::task::spawn_blocking(move || on_response(response));
        };
        self.runtime.spawn(async move {
            let buttons = *buttons.get_or_init(draws_buttons).await;
            let handle = match build(&app_name, &notice, buttons).show_async().await {
                Ok(handle) => Arc::new(handle),
                Err(error) => {
                    lock(&slots).remove(&id);
                    respond(Response::Failed(error.to_string()));
                    return;
                }
            };
            let close_now = match lock(&slots).insert(id, Slot::Shown(handle.clone())) {
                Some(Slot::Sending { close_requested }) => close_requested,
                _ => false,
            };
            if close_now {
                handle.close_async().await;
            }
            let mut answer = Response::Expired;
            handle
                .wait_for_action_async(|response| answer = response_of(response))
                .await;
            // An answered notice is taken down here, not left to the daemon: some keep
            // notices with actions on screen after a button is pressed.
            if matches!(answer, Response::Action(_) | Response::Clicked) {
                handle.close_async().await;
            }
            lock(&slots).remove(&id);
            respond(answer);
        });
        Ok(id)
    }

    fn close(&self, id: NoticeId) {
        let mut slots = lock(&self.slots);
        match slots.get_mut(&id) {
            Some(Slot::Sending { close_requested }) => *close_requested = true,
            Some(Slot::Shown(handle)) => {
                let handle = handle.clone();
                self.runtime
                    .spawn(async move { handle.close_async().await });
            }
            None => {}
        }
    }
}
