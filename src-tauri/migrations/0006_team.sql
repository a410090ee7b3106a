-- Teams over Matrix. A check-in session can be shared with a team (a Matrix room): every
-- device in the room keeps the team's shared sessions in checkin_session, built from the
-- room's events, so the same scheduler and alarms serve them as local sessions.

-- This device's Matrix account: one at most. The session (access token) and the passphrase
-- of the Matrix SDK's own encrypted store never leave this table for logs or the screen.
CREATE TABLE team_account (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    homeserver       TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    device_id        TEXT NOT NULL,
    session          TEXT NOT NULL,  -- JSON the SDK restores the login from
    store_passphrase TEXT NOT NULL,
    signed_in_at     INTEGER NOT NULL,
    -- How long this device waits before posting "missed" for a session another device
    -- started, so the room gets one post (tests set 0 to make devices post together).
    missed_hold_ms   INTEGER NOT NULL DEFAULT 2000
) STRICT;

-- Teams this device is in. The room's own name is neutral (room names are not encrypted);
-- the team's name here is for this device only.
CREATE TABLE team (
    room_id   TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    joined_at INTEGER NOT NULL
) STRICT;

ALTER TABLE checkin_session ADD COLUMN team_room TEXT;                       -- shared with this team
ALTER TABLE checkin_session ADD COLUMN team_session TEXT;                    -- the id every device uses
ALTER TABLE checkin_session ADD COLUMN origin TEXT NOT NULL DEFAULT 'local'; -- 'local' or 'team'
ALTER TABLE checkin_session ADD COLUMN owner TEXT NOT NULL DEFAULT '';       -- who started it (Matrix id)
ALTER TABLE checkin_session ADD COLUMN chat_members TEXT NOT NULL DEFAULT '[]'; -- may check in from chat
ALTER TABLE checkin_session ADD COLUMN help_at INTEGER;                      -- "HELP" from a participant
CREATE UNIQUE INDEX checkin_session_team ON checkin_session (team_session)
    WHERE team_session IS NOT NULL;

-- What this device still has to post, in order. A change and its post are written in one
-- transaction, so nothing is lost if the app or the network stops in between.
CREATE TABLE team_outbox (
    id          INTEGER PRIMARY KEY,
    room_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    session     TEXT,              -- team_session
    due_at      INTEGER,           -- for "missed": the due time it is about
    content     TEXT NOT NULL,     -- the m.room.message content, JSON
    not_before  INTEGER NOT NULL,  -- held until then
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    event_id    TEXT,
    dropped     TEXT,              -- why it was not sent: no longer true
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
) STRICT;
CREATE INDEX team_outbox_pending ON team_outbox (room_id, id) WHERE sent_at IS NULL AND dropped IS NULL;

-- Room events already applied, by event id, so importing the room is idempotent; the first
-- "missed" for a (session, due time) holds its key, and later ones are folded into it.
CREATE TABLE team_event_seen (
    event_id   TEXT PRIMARY KEY,
    room_id    TEXT NOT NULL,
    dedupe_key TEXT,
    session    TEXT,              -- the shared session it is about: replies and reactions find it
    sender     TEXT NOT NULL,
    seen_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX team_event_seen_key ON team_event_seen (dedupe_key) WHERE dedupe_key IS NOT NULL;
