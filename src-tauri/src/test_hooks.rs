//! What only tests ask of a debug build: a clock set ahead, and an upgrade held back. A
//! release build has neither.

use std::sync::Arc;

use crate::time::{self, Clock};

/// Debug builds only: `CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES` starts the app that many
/// minutes in the future, so end-to-end tests can check what happens after a due time.
#[cfg(debug_assertions)]
pub(crate) fn test_clock() -> Option<Arc<dyn Clock>> {
    let minutes: i64 = std::env::var("CAMPAIGN_SAFE_TEST_CLOCK_OFFSET_MINUTES")
        .ok()?
        .parse()
        .ok()?;
    tracing::warn!(minutes, "test clock offset in use");
    Some(Arc::new(time::OffsetClock(chrono::Duration::minutes(
        minutes,
    ))))
}

#[cfg(not(debug_assertions))]
pub(crate) fn test_clock() -> Option<Arc<dyn Clock>> {
    None
}

/// Debug builds only: `CAMPAIGN_SAFE_TEST_HOLD_UPGRADE` names a file the upgrade waits for,
/// so an end-to-end test can see the window while the record is still being upgraded.
#[cfg(debug_assertions)]
pub(crate) fn hold_upgrade_for_tests() {
    let Some(release) = std::env::var_os("CAMPAIGN_SAFE_TEST_HOLD_UPGRADE") else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::path::Path::new(&release).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(not(debug_assertions))]
pub(crate) fn hold_upgrade_for_tests() {}
