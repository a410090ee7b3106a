-- Canvass plans: where, when, who with whom, and the risk check made before going. The
-- plan itself is kept as JSON (its fields change with the form); what lists and links need
-- is in columns.
CREATE TABLE canvass_plan (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    plan_date   TEXT NOT NULL,      -- 'YYYY-MM-DD', UK date
    body        TEXT NOT NULL,      -- the checked plan, JSON
    created_at  INTEGER NOT NULL,   -- UTC milliseconds
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER
) STRICT;

CREATE INDEX canvass_plan_date ON canvass_plan (plan_date);

-- The check-in sessions a plan started, one per pair (deleting a plan clears it).
ALTER TABLE checkin_session ADD COLUMN plan_id INTEGER;
