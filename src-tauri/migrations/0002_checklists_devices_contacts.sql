-- Ticks become shared by every checklist: advice sections keep their ids as list ids,
-- SOS guides use "sos:<guide id>" (content ids cannot contain ':').
ALTER TABLE advice_tick RENAME TO checklist_tick;
ALTER TABLE checklist_tick RENAME COLUMN section_id TO list_id;

-- "My devices": models the user chose, so their SOS guides open in one tap.
CREATE TABLE my_device (
    id        INTEGER PRIMARY KEY,
    model     TEXT NOT NULL UNIQUE,
    guide_id  TEXT NOT NULL,
    added_at  INTEGER NOT NULL
) STRICT;

-- Contact cards shown on the Emergency screen, one per role.
CREATE TABLE contact_card (
    role       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    notes      TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
) STRICT;
