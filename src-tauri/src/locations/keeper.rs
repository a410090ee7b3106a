//! Deletes phones' locations when their session has been over for the days the user chose:
//! a thread that sleeps until the next one falls due (or until a session changes), so nothing
//! wakes while there is nothing to delete.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration as StdDuration;

use crate::changes::{Changed, Changes, Listener};
use crate::storage::Database;
use crate::time::Clock;

/// The longest sleep while a deletion is due, so a suspend or a clock change is caught up on.
const LONGEST_SLEEP: StdDuration = StdDuration::from_secs(3600);

#[derive(Default)]
struct Poke {
    poked: Mutex<bool>,
    wake: Condvar,
}

impl Listener for Poke {
    fn heard(&self, what: &Changed) {
        if *what == Changed::Sessions {
            *self.poked.lock().unwrap_or_else(|p| p.into_inner()) = true;
            self.wake.notify_one();
        }
    }
}

/// One pass: deletes what is due; returns how long to sleep (None: until a session changes).
pub fn look(database: &Database, clock: &dyn Clock) -> Option<StdDuration> {
    let conn = database.conn();
    let days =
        crate::settings::location_days(&conn).unwrap_or(crate::settings::LOCATION_DAYS_DEFAULT);
    let now = clock.now();
    if let Err(error) = super::forget_expired(&conn, now, days) {
        tracing::error!("locations could not be deleted: {error}");
        return Some(LONGEST_SLEEP);
    }
    match super::next_expiry(&conn, days) {
        Ok(Some(at)) => Some(
            (at - now)
                .to_std()
                .unwrap_or_default()
                .clamp(StdDuration::from_secs(1), LONGEST_SLEEP),
        ),
        Ok(None) => None,
        Err(error) => {
            tracing::error!("locations could not be read: {error}");
            Some(LONGEST_SLEEP)
        }
    }
}

/// Starts the thread; it runs until the process ends.
pub fn spawn(database: Arc<Database>, clock: Arc<dyn Clock>, changes: &Changes) {
    let poke = Arc::new(Poke::default());
    changes.listen(poke.clone());
    let started = std::thread::Builder::new()
        .name("location keeper".into())
        .spawn(move || loop {
            let sleep = look(&database, clock.as_ref());
            let mut poked = poke.poked.lock().unwrap_or_else(|p| p.into_inner());
            if !*poked {
                poked = match sleep {
                    Some(duration) => {
                        poke.wake
                            .wait_timeout(poked, duration)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                    None => poke.wake.wait(poked).unwrap_or_else(|p| p.into_inner()),
                };
            }
            *poked = false;
        });
    if let Err(error) = started {
        tracing::error!("the location keeper could not start: {error}");
    }
}
