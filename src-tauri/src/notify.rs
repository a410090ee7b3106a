//! Desktop notifications behind one small trait, so code that sends them (the check-in
//! scheduler) can be tested with a recorder, and the real one over a real D-Bus.

/// How urgent a notice is; a missed check-in is `Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Low,
    Normal,
    Critical,
}

/// A button on a notice, where the desktop supports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeAction {
    /// Sent back when the button is pressed, e.g. "check-in".
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
    pub urgency: Urgency,
    pub actions: Vec<NoticeAction>,
}

/// What the person did with a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// They pressed the button with this key.
    Action(String),
    /// They clicked the notice itself.
    Clicked,
    /// It was dismissed or expired.
    Closed,
}

pub type OnResponse = Box<dyn FnOnce(Response) + Send + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("Desktop notifications are not available: {0}")]
    Unavailable(String),
}

/// Shows notices. A failure is for the caller to log and make up for in the app (an
/// in-app alarm); it is never a reason to stop.
pub trait Notifier: Send + Sync {
    fn notify(&self, notice: &Notice, on_response: OnResponse) -> Result<(), NotifyError>;
}

/// Real notifications through the desktop's notification service (notify-rust).
#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub struct DesktopNotifier {
    app_name: String,
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
impl DesktopNotifier {
    pub fn new(app_name: impl Into<String>) -> Self {
        Self {
            app_name: app_name.into(),
        }
    }
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
impl Notifier for DesktopNotifier {
    fn notify(&self, notice: &Notice, on_response: OnResponse) -> Result<(), NotifyError> {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(&self.app_name)
            .summary(&notice.summary)
            .body(&notice.body);
        for action in &notice.actions {
            notification.action(&action.key, &action.label);
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        notification.urgency(match notice.urgency {
            Urgency::Low => notify_rust::Urgency::Low,
            Urgency::Normal => notify_rust::Urgency::Normal,
            Urgency::Critical => notify_rust::Urgency::Critical,
        });
        if notice.urgency == Urgency::Critical {
            // Stays on screen until the person deals with it.
            notification.timeout(notify_rust::Timeout::Never);
        }
        let handle = notification
            .show()
            .map_err(|error| NotifyError::Unavailable(error.to_string()))?;
        // The handle is kept alive on its own thread until the person responds: dropping it
        // makes some desktops (GNOME 46 and later) discard the notice at once.
        std::thread::Builder::new()
            .name("notification".into())
            .spawn(move || {
                handle.wait_for_action(|key| {
                    on_response(match key {
                        "__closed" => Response::Closed,
                        "default" => Response::Clicked,
                        other => Response::Action(other.to_owned()),
                    })
                })
            })
            .map_err(|error| NotifyError::Unavailable(error.to_string()))?;
        Ok(())
    }
}
