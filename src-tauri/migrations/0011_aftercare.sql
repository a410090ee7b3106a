-- Aftercare: the short debrief after a canvass, the follow-ups it creates (who checks on
-- whom, and when), and the periodic review of emergency arrangements, each kept with its date.
CREATE TABLE debrief (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL UNIQUE REFERENCES checkin_session (id),
    anything_happened INTEGER NOT NULL,
    incident_id       TEXT,                    -- the quick incident it recorded
    anyone_upset      INTEGER NOT NULL,
    good_encounters   TEXT NOT NULL DEFAULT '',
    update_do_not_knock INTEGER NOT NULL,
    at                INTEGER NOT NULL         -- UTC milliseconds
) STRICT;

CREATE TABLE follow_up (
    id          INTEGER PRIMARY KEY,
    about       TEXT NOT NULL,                 -- what to do, or whom to check on
    who_checks  TEXT NOT NULL,
    due_on      TEXT NOT NULL,                 -- 'YYYY-MM-DD', UK date
    debrief_id  INTEGER REFERENCES debrief (id),
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
) STRICT;

CREATE INDEX follow_up_open ON follow_up (done_at, due_on);

CREATE TABLE safety_review (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,                 -- UTC milliseconds
    checked  TEXT NOT NULL,                    -- JSON: the parts reviewed, and devices practised
    notes    TEXT NOT NULL DEFAULT ''
) STRICT;
