//! The scheduler thread: looks at the database when something is due, sends what
//! `scheduler::evaluate` decides, and applies what people answer on the notifications.
//!
//! It sleeps until the next due time, or indefinitely when nothing is scheduled (no
//! periodic wake-ups), and wakes early when a session changes. While something is
//! scheduled it never sleeps longer than a minute at a time, because the monotonic timers
//! it sleeps on stop while the machine is suspended; each wake re-reads the wall clock.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration as StdDuration, Instant};

use super::scheduler::{self, AlertKind};
use crate::alarms::hub::AlarmHub;
use crate::alarms::{AlarmKey, AlarmKind};
use crate::storage::Database;
use crate::time::{to_millis, Clock};

/// The longest sleep while something is scheduled, so a suspend is noticed within a minute.
const MAX_SLICE: StdDuration = StdDuration::from_secs(60);

#[derive(Default)]
struct Signal {
    changed: Mutex<bool>,
    wake: Condvar,
}

/// Tells the scheduler that sessions changed. Cheap to clone.
#[derive(Clone, Default)]
pub struct SchedulerHandle {
    signal: Arc<Signal>,
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

pub struct Runner {
    pub database: Arc<Database>,
    pub clock: Arc<dyn Clock>,
    /// Where what the scheduler decides goes: the one set of open alarms.
    pub alarms: Arc<AlarmHub>,
    pub handle: SchedulerHandle,
}

impl Runner {
    /// One look: record what is due and bring the alarms up to date. Returns how long to
    /// sleep (None: until poked).
    pub fn tick(&self) -> Option<StdDuration> {
        self.look(false)
    }

    /// As [`Runner::tick`]; `always` tells the alarm hub even when nothing new is due (the
    /// first look after a start shows the alarms left open, once each).
    fn look(&self, always: bool) -> Option<StdDuration> {
        let now = self.clock.now();
        let alerts = match scheduler::evaluate(&mut self.database.conn(), now) {
            Ok(alerts) => alerts,
            Err(error) => {
                tracing::error!("scheduler could not read check-ins: {error}");
                return Some(MAX_SLICE);
            }
        };
        if always || !alerts.is_empty() {
            let repeated: Vec<AlarmKey> = alerts
                .iter()
                .filter_map(|alert| match alert.kind {
                    AlertKind::Missed {
                        since,
                        repeat: true,
                        ..
                    } => Some(AlarmKey {
                        session_id: alert.session_id,
                        kind: AlarmKind::Missed,
                        due_at_ms: to_millis(since),
                    }),
                    _ => None,
                })
                .collect();
            self.alarms.refresh(&repeated);
        }
        match scheduler::next_wake(&self.database.conn(), now) {
            // Measured from the clock now, after the work above. The small floor keeps a due
            // time that is already past from spinning the loop.
            Ok(Some(at)) => Some(
                (at - self.clock.now())
                    .to_std()
                    .unwrap_or_default()
                    .clamp(StdDuration::from_millis(2), MAX_SLICE),
            ),
            Ok(None) => None,
            Err(error) => {
                tracing::error!("scheduler could not read check-ins: {error}");
                Some(MAX_SLICE)
            }
        }
    }

    /// Runs until the process ends.
    pub fn run(self) {
        let mut first = true;
        loop {
            // Alarms left open when the app last stopped are shown again at once.
            let sleep = self.look(first);
            first = false;
            let started = (Instant::now(), self.clock.now());
            let signal = &self.handle.signal;
            let mut changed = signal.changed.lock().unwrap_or_else(|p| p.into_inner());
            if !*changed {
                changed = match sleep {
                    Some(duration) => {
                        signal
                            .wake
                            .wait_timeout(changed, duration)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                    None => signal.wake.wait(changed).unwrap_or_else(|p| p.into_inner()),
                };
            }
            *changed = false;
            drop(changed);
            let slept = started.0.elapsed();
            let wall = (self.clock.now() - started.1).to_std().unwrap_or_default();
            if wall > slept + StdDuration::from_secs(5) || wall + StdDuration::from_secs(5) < slept
            {
                tracing::info!(
                    ?slept,
                    ?wall,
                    "clock jumped or the system resumed; catching up"
                );
            }
        }
    }

    pub fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("check-in scheduler".into())
            .spawn(move || self.run())
            .map(|_| ())
    }
}
