//! Ticks on any checklist (advice sections, SOS guide set-up lists), with the time ticked.
//! Content says what the items are; only the user's ticks are stored here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use crate::time;

/// When each item was ticked, by list then item.
#[derive(Debug, Default)]
pub struct Ticks(HashMap<String, HashMap<String, DateTime<Utc>>>);

impl Ticks {
    pub fn load(conn: &Connection) -> rusqlite::Result<Self> {
        let mut stmt =
            conn.prepare_cached("SELECT list_id, item_id, ticked_at FROM checklist_tick")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        let mut ticks = Ticks::default();
        for row in rows {
            let (list, item, millis) = row?;
            if let Some(at) = time::from_millis(millis) {
                ticks.0.entry(list).or_default().insert(item, at);
            }
        }
        Ok(ticks)
    }

    pub fn at(&self, list: &str, item: &str) -> Option<DateTime<Utc>> {
        self.0.get(list).and_then(|items| items.get(item)).copied()
    }
}

/// Ticks an item (keeping the first time it was ticked) or unticks it.
pub fn set(
    conn: &Connection,
    list: &str,
    item: &str,
    done: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if done {
        conn.execute(
            "INSERT INTO checklist_tick (list_id, item_id, ticked_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (list_id, item_id) DO NOTHING",
            params![list, item, time::to_millis(now)],
        )?;
    } else {
        conn.execute(
            "DELETE FROM checklist_tick WHERE list_id = ?1 AND item_id = ?2",
            params![list, item],
        )?;
    }
    Ok(())
}
