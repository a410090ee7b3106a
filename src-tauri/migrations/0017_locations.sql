-- Where team members last were (issue 26): the latest location each member of a shared
-- session sent from their phone (a pin, or live location), kept with the session and deleted
-- some days after it ends. Only ever in the encrypted database, never in logs.
CREATE TABLE session_location (
    session_id  INTEGER NOT NULL REFERENCES checkin_session (id),
    sender      TEXT NOT NULL,     -- as the server authenticated them
    sender_name TEXT NOT NULL,     -- as the room showed them
    latitude    REAL NOT NULL,
    longitude   REAL NOT NULL,
    accuracy_m  INTEGER,           -- radius in metres, when the phone gave one
    at          INTEGER NOT NULL,  -- when the location was taken, UTC milliseconds
    live        INTEGER NOT NULL,  -- 1: from live location, 0: a pin
    event_id    TEXT NOT NULL,
    PRIMARY KEY (session_id, sender)
) STRICT;

-- Who shares live location in a team room, from their beacon_info state (no location).
CREATE TABLE location_share (
    room_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    live     INTEGER NOT NULL,
    since    INTEGER NOT NULL,     -- UTC milliseconds
    until    INTEGER NOT NULL,     -- when the phone stops sharing, at the latest
    event_id TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
) STRICT;
