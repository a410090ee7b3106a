-- Record heads seen in team rooms (issue 24): each member's device posts the head of its
-- incident record, signed with that record's device key; every device keeps what it saw,
-- so a history rewritten after a head was seen no longer matches it. No incident content.
CREATE TABLE record_head_seen (
    event_id  TEXT PRIMARY KEY,
    room_id   TEXT NOT NULL,
    sender    TEXT NOT NULL,     -- as the server authenticated them
    signer    TEXT NOT NULL,     -- the record's device key (hex) that signed the head
    versions  INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    at        INTEGER NOT NULL,  -- the moment the head is of, UTC milliseconds
    seen_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX record_head_seen_signer ON record_head_seen (signer, at);
