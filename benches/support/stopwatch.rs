//! A notifier for benchmarks: records when each notice reached it, by its summary.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use campaign_safe_lib::notify::{Notice, NoticeId, Notifier, NotifyError, OnResponse};

#[derive(Default)]
pub struct Stopwatch(pub Mutex<Vec<(String, DateTime<Utc>)>>);

impl Notifier for Stopwatch {
    fn show(&self, notice: &Notice, _: OnResponse) -> Result<NoticeId, NotifyError> {
        let mut shown = self.0.lock().unwrap();
        shown.push((notice.summary.clone(), Utc::now()));
        Ok(shown.len() as NoticeId)
    }
    fn close(&self, _: NoticeId) {}
}
