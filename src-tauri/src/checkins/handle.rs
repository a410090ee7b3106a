//! Tells the scheduler thread that sessions changed, so it looks again at once.

use std::sync::{Arc, Condvar, Mutex};

#[derive(Default)]
pub(super) struct Signal {
    pub(super) changed: Mutex<bool>,
    pub(super) wake: Condvar,
}

/// Tells the scheduler that sessions changed. Cheap to clone.
#[derive(Clone, Default)]
pub struct SchedulerHandle {
    pub(super) signal: Arc<Signal>,
}

impl SchedulerHandle {
    pub fn poke(&self) {
        let mut changed = self
            .signal
            .changed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *changed = true;
        self.signal.wake.notify_all();
    }

    /// Whether a poke is waiting to be taken (for tests).
    pub fn poked(&self) -> bool {
        *self
            .signal
            .changed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl crate::changes::Listener for SchedulerHandle {
    /// Sessions changed: the scheduler looks again at once.
    fn heard(&self, what: &crate::changes::Changed) {
        if *what == crate::changes::Changed::Sessions {
            self.poke();
        }
    }
}
