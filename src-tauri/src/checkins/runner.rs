//! The scheduler thread: looks at the database when something is due, sends what
//! `scheduler::evaluate` decides, and applies what people answer on the notifications.
//!
//! It sleeps until the next due time, or indefinitely when nothing is scheduled (no
//! periodic wake-ups), and wakes early when a session changes. While something is
//! scheduled it never sleeps longer than a minute at a time, because the monotonic timers
//! it sleeps on stop while the machine is suspended; each wake re-reads the wall clock.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

pub use super::handle::SchedulerHandle;
use super::scheduler::{self, AlertKind};
use super::SessionSink;
use crate::changes::{Changed, Changes};
use crate::storage::Database;
use crate::time::{to_millis, Clock};

/// The longest sleep while something is scheduled, so a suspend is noticed within a minute.
const MAX_SLICE: StdDuration = StdDuration::from_secs(60);

pub struct Runner {
    pub database: Arc<Database>,
    pub clock: Arc<dyn Clock>,
    /// Told of every change the scheduler makes (the team relay queues its posts).
    pub sink: Arc<dyn SessionSink>,
    /// Where what the scheduler decides is announced: the alarms are read again from it.
    pub changes: Changes,
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
        let held = self.handle.tracked_wait();
        let alerts = match scheduler::evaluate_holding(
            &mut self.database.conn(),
            now,
            self.sink.as_ref(),
            held.is_some(),
        ) {
            Ok(alerts) => alerts,
            Err(error) => {
                tracing::error!("scheduler could not read check-ins: {error}");
                return Some(MAX_SLICE);
            }
        };
        if always || !alerts.is_empty() {
            let ring_again: Vec<(i64, i64)> = alerts
                .iter()
                .filter_map(|alert| match alert.kind {
                    AlertKind::Missed {
                        since,
                        repeat: true,
                        ..
                    } => Some((alert.session_id, to_millis(since))),
                    _ => None,
                })
                .collect();
            self.changes.announce(Changed::Alerted { ring_again });
        }
        let next = match scheduler::next_wake_holding(&self.database.conn(), now, held.is_some()) {
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
        };
        // While tracked sessions wait, look again when the wait ends (the relay's news that
        // it caught up pokes sooner).
        match (next, held) {
            (Some(next), Some(held)) => Some(next.min(held)),
            (None, held) => held,
            (next, None) => next,
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
