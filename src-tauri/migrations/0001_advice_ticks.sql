-- Ticks on the briefing's advice checklists. Content lives in content/advice/; only the
-- user's progress is stored. Times are UTC, milliseconds since the Unix epoch.
CREATE TABLE advice_tick (
    section_id TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    ticked_at  INTEGER NOT NULL,
    PRIMARY KEY (section_id, item_id)
) STRICT;
