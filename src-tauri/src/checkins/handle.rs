//! Tells the scheduler thread that sessions changed, so it looks again at once.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub(super) struct Signal {
    pub(super) changed: Mutex<bool>,
    pub(super) wake: Condvar,
}

/// Tells the scheduler that sessions changed. Cheap to clone.
#[derive(Clone, Default)]
pub struct SchedulerHandle {
    pub(super) signal: Arc<Signal>,
    /// Until when alarms for sessions tracked for a team wait (the relay is reading).
    tracked_wait: Arc<Mutex<Option<Instant>>>,
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

    /// How much longer alarms for tracked sessions wait, if they do.
    pub fn tracked_wait(&self) -> Option<Duration> {
        let until = (*self.tracked_wait.lock().unwrap_or_else(|p| p.into_inner()))?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
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
        match what {
            crate::changes::Changed::Sessions => self.poke(),
            crate::changes::Changed::TeamReading { until } => {
                *self.tracked_wait.lock().unwrap_or_else(|p| p.into_inner()) = *until;
                self.poke();
            }
            _ => {}
        }
    }
}
