//! Desktop notifications behind one small trait, so code that sends them (the alarm hub) can
//! be tested with a recorder, and the real one over a real D-Bus.
//!
//! A notice is shown, and later either answered, dropped by the desktop, or closed by the app
//! once it is no longer true. The caller keeps the [`NoticeId`] to close it with.

#[cfg(target_os = "linux")]
mod desktop;

#[cfg(target_os = "linux")]
pub use desktop::{Answering, DesktopNotifier};

/// How urgent a notice is; a missed check-in is `Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Low,
    Normal,
    Critical,
}

/// A button on a notice, where the desktop draws them.
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
    /// What to do in the app ("check in"), for desktops that draw no buttons: the notice
    /// then says how to get there on this desktop.
    pub in_app_task: String,
    pub urgency: Urgency,
    pub actions: Vec<NoticeAction>,
}

/// The app's own number for a notice it showed.
pub type NoticeId = u64;

/// What became of a notice. Exactly one of these arrives for each notice shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// They pressed the button with this key.
    Action(String),
    /// They clicked the notice itself.
    Clicked,
    /// They closed it without answering.
    Dismissed,
    /// The desktop took it away by itself (a timeout, or a daemon that restarted).
    Expired,
    /// The app closed it (it was no longer true).
    ClosedByApp,
    /// It could not be shown at all.
    Failed(String),
}

pub type OnResponse = Box<dyn FnOnce(Response) + Send + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("Desktop notifications are not available: {0}")]
    Unavailable(String),
}

/// Shows and closes notices. A failure is for the caller to make up for in the app (the
/// in-app alarm); it is never a reason to stop. Neither call blocks on the desktop.
pub trait Notifier: Send + Sync {
    /// Shows `notice`. `on_response` is called once, later, on another thread.
    fn show(&self, notice: &Notice, on_response: OnResponse) -> Result<NoticeId, NotifyError>;

    /// Takes a notice away; its `on_response` then gets [`Response::ClosedByApp`].
    fn close(&self, id: NoticeId);

    /// Keeps track of the notices shown in `data_dir`, and takes down those an earlier run
    /// left up there.
    fn keep_track_in(&self, _data_dir: &std::path::Path) {}

    /// Takes every notice down: the app is quitting. Blocks a little while for the desktop.
    fn close_all(&self) {}
}

/// Where no desktop notifications can be sent (phones, for now): the in-app alarm alone.
pub struct InAppOnly;

impl Notifier for InAppOnly {
    fn show(&self, _: &Notice, _: OnResponse) -> Result<NoticeId, NotifyError> {
        Err(NotifyError::Unavailable("not on this platform yet".into()))
    }

    fn close(&self, _: NoticeId) {}
}
