//! Wrong PINs and passphrases: a few tries are free, then each next one waits longer (5 s,
//! doubling, at most 5 min 20 s). The count is kept by the caller where it survives a restart
//! (the record's settings for the PIN; a file beside the key file for the passphrase, since
//! the record is closed then), so restarting the app does not give free tries again.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Wrong tries allowed before each further one waits longer.
pub const FREE_TRIES: u32 = 3;
const FIRST_WAIT_SECONDS: i64 = 5;
const MOST_DOUBLINGS: u32 = 6;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tries {
    pub wrong: u32,
    pub retry_at: Option<DateTime<Utc>>,
}

impl Tries {
    /// Read from what was kept: anything unreadable counts as a full slow-down, never as
    /// free tries (a damaged or edited count must not open the way to guessing).
    pub fn read(kept: Option<&str>, now: DateTime<Utc>) -> Self {
        match kept {
            None => Self::default(),
            Some(text) => serde_json::from_str::<Tries>(text).unwrap_or_else(|_| {
                let wrong = FREE_TRIES + MOST_DOUBLINGS;
                Self {
                    wrong,
                    retry_at: Some(now + wait_after(wrong)),
                }
            }),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `Err(seconds)` while the next try must still wait. A retry time further ahead than
    /// the longest wait (the clock was turned back, or the count edited) is cut to it.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), u64> {
        match self.retry_at {
            Some(at) if at > now => {
                let left = (at - now).min(wait_after(FREE_TRIES + MOST_DOUBLINGS));
                // Rounded up: "wait 1 second" while any of it is left.
                Err(((left.num_milliseconds() + 999) / 1000).max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    /// One more wrong try at `now`.
    pub fn failed(&mut self, now: DateTime<Utc>) {
        self.wrong = self.wrong.saturating_add(1);
        if self.wrong >= FREE_TRIES {
            self.retry_at = Some(now + wait_after(self.wrong));
        }
    }
}

fn wait_after(wrong: u32) -> Duration {
    let doublings = wrong.saturating_sub(FREE_TRIES).min(MOST_DOUBLINGS);
    Duration::seconds(FIRST_WAIT_SECONDS << doublings)
}

/// "1 second", "5 seconds": for the messages that say how long to wait.
pub fn seconds(count: u64) -> String {
    if count == 1 {
        "1 second".into()
    } else {
        format!("{count} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap() + Duration::seconds(second)
    }

    #[test]
    fn three_free_tries_then_each_waits_longer_and_the_count_reads_back() {
        let mut tries = Tries::default();
        for _ in 0..2 {
            tries.failed(at(0));
            assert_eq!(tries.check(at(0)), Ok(()));
        }
        tries.failed(at(0));
        assert_eq!(tries.check(at(0)), Err(5));
        assert_eq!(tries.check(at(4)), Err(1));
        assert_eq!(tries.check(at(5)), Ok(()));
        tries.failed(at(5));
        assert_eq!(tries.check(at(5)), Err(10));
        let kept = Tries::read(Some(&tries.to_json()), at(6));
        assert_eq!(kept, tries);
        assert_eq!(kept.check(at(6)), Err(9));
    }

    #[test]
    fn a_damaged_or_edited_count_never_gives_free_tries() {
        assert!(Tries::read(Some("not json"), at(0)).check(at(0)).is_err());
        let far = Tries {
            wrong: 4,
            retry_at: Some(at(10_000_000)),
        };
        assert_eq!(
            far.check(at(0)),
            Err(320),
            "never longer than the longest wait"
        );
        let mut many = Tries {
            wrong: u32::MAX,
            retry_at: None,
        };
        many.failed(at(0));
        assert_eq!(many.check(at(0)), Err(320));
        assert_eq!(seconds(1), "1 second");
        assert_eq!(seconds(2), "2 seconds");
    }
}
