-- Check-in sessions: canvasses, journeys and meetings. The database is the scheduler's
-- truth: due times are absolute UTC milliseconds, and what has already been sent is
-- recorded against the due time it was for, so nothing fires twice after a restart.
CREATE TABLE checkin_session (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('canvass', 'journey', 'meeting')),
    mode              TEXT NOT NULL CHECK (mode IN ('me', 'watching')),
    title             TEXT NOT NULL,
    participants      TEXT NOT NULL,            -- JSON array of names
    people_key        TEXT NOT NULL,            -- sorted, lowercased names: finds duplicates
    place             TEXT NOT NULL DEFAULT '',
    notes             TEXT NOT NULL DEFAULT '', -- for responders: clothing, vehicle, signal
    escalation        TEXT NOT NULL,            -- JSON array of {name, phone, relationship}
    started_at        INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,         -- planned end, or ETA for a journey
    interval_min      INTEGER,                  -- NULL: no periodic check-ins, only the ETA
    reminder_lead_min INTEGER NOT NULL,
    grace_min         INTEGER NOT NULL,
    next_due_at       INTEGER NOT NULL,
    last_check_in_at  INTEGER,
    reminded_for      INTEGER,                  -- the due time a reminder was sent for
    snoozed_until     INTEGER,                  -- remind again at this time
    missed_for        INTEGER,                  -- the due time a missed alert was raised for
    last_alert_at     INTEGER,                  -- when the missed alert was last sent
    acknowledged_at   INTEGER,
    ended_at          INTEGER
) STRICT;

CREATE INDEX checkin_session_active ON checkin_session (ended_at, next_due_at);

-- Everything that happened to a session, appended, never changed.
CREATE TABLE checkin_event (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES checkin_session (id),
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    by_whom    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX checkin_event_session ON checkin_event (session_id, at);
