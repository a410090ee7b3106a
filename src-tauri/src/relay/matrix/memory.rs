//! A team of 200 leaves peaks behind: sharing a room key encrypts it for every member's
//! device, and a long sync is parsed whole. Once that is freed, glibc's allocator keeps the
//! pages for reuse, so a device held several MiB more than it used (benches/relay_load.rs,
//! "once freed memory is handed back"). After sending or reading, the free pages are handed
//! back to the system, at most once every HAND_BACK_EVERY, off the async threads.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Often enough that a burst's pages go back within seconds of it; rarely enough that the
/// walk over the heap costs nothing noticeable.
const HAND_BACK_EVERY: Duration = Duration::from_secs(10);

static LAST: Mutex<Option<Instant>> = Mutex::new(None);

/// Hands free heap pages back to the system, unless done within HAND_BACK_EVERY.
pub(super) fn hand_back_freed() {
    {
        let mut last = match LAST.lock() {
            Ok(last) => last,
            Err(poisoned) => poisoned.into_inner(),
        };
        if last.is_some_and(|at| at.elapsed() < HAND_BACK_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    let trim = crate::footprint::free_heap_pages;
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(trim)),
        Err(_) => trim(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handing_back_works_with_or_without_a_runtime_and_at_most_once_a_while() {
        super::hand_back_freed();
        super::hand_back_freed();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async { super::hand_back_freed() });
        let last = super::LAST.lock().unwrap().expect("handed back once");
        assert!(last.elapsed() < super::HAND_BACK_EVERY);
    }
}
