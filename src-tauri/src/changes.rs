//! One typed channel for what changed, announced once after it is saved: the scheduler looks
//! again, the alarms are read again (and the window told once), and the team relay sends
//! what was queued. Whoever made the change (a button, a notification, the scheduler, the
//! team room) announces it the same way.

use std::sync::{Arc, RwLock};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Check-in sessions changed.
    Sessions,
    /// The scheduler raised or repeated alarms: `ring_again` are the missed alarms it sounded
    /// again, by session and due time (UTC milliseconds).
    Alerted { ring_again: Vec<(i64, i64)> },
    /// The do-not-knock list changed.
    DoNotKnock,
    /// The team's connection, teams or members changed.
    Team,
    /// The incident record changed (recorded, amended, withdrawn, erased, attached, imported):
    /// the record's head goes to the team to witness.
    Record,
    /// A team post this device cannot read came from someone taking part in a running
    /// shared session: it could be a call for help.
    Unreadable {
        session_id: i64,
        title: String,
        /// Who sent it, as a short name.
        sender: String,
        sent_at: chrono::DateTime<chrono::Utc>,
    },
    /// The team relay is reading its rooms after a start (or has caught up, `until: None`):
    /// until then, at the latest `until`, alarms for sessions tracked for a team wait, since
    /// the room may say they ended or were checked in while this device was away.
    TeamReading { until: Option<std::time::Instant> },
    /// Someone asks this device to compare numbers (verification): the user must answer on
    /// the Team screen, wherever the window is.
    ComparisonAsked {
        /// The teammate's short name, or None for another of the user's own sessions.
        teammate: Option<String>,
    },
}

/// Something that hears every change.
pub trait Listener: Send + Sync {
    fn heard(&self, what: &Changed);
}

/// The channel: cheap to clone, shared by everything that changes or listens.
#[derive(Clone, Default)]
pub struct Changes {
    listeners: Arc<RwLock<Vec<Arc<dyn Listener>>>>,
}

impl Changes {
    /// Adds a listener; it hears every change announced from now on, in the order added.
    pub fn listen(&self, listener: Arc<dyn Listener>) {
        self.listeners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(listener);
    }

    /// Tells every listener. Called after the change is saved, never inside a transaction.
    pub fn announce(&self, what: Changed) {
        let listeners = self
            .listeners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for listener in listeners {
            listener.heard(&what);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Heard(Mutex<Vec<Changed>>);

    impl Listener for Heard {
        fn heard(&self, what: &Changed) {
            self.0.lock().unwrap().push(what.clone());
        }
    }

    #[test]
    fn every_listener_hears_each_change_once_in_order() {
        let changes = Changes::default();
        let (first, second) = (Arc::new(Heard::default()), Arc::new(Heard::default()));
        changes.listen(first.clone());
        changes.clone().listen(second.clone());
        changes.announce(Changed::Sessions);
        changes.announce(Changed::DoNotKnock);
        for heard in [&first, &second] {
            assert_eq!(
                *heard.0.lock().unwrap(),
                [Changed::Sessions, Changed::DoNotKnock]
            );
        }
    }
}
