-- Each version is signed by the device that recorded it (Ed25519, over its hash), so that
-- someone who can edit the files but lacks the device's key cannot rewrite a chain unnoticed.
-- Versions recorded before this migration stay unsigned.
ALTER TABLE incident_version ADD COLUMN signer TEXT;     -- public key, hex
ALTER TABLE incident_version ADD COLUMN signature TEXT;  -- hex

-- This device's signing key. The record is encrypted at rest, so the secret is too.
CREATE TABLE device_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     TEXT NOT NULL,
    public     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Other devices' keys, learnt from the evidence packs imported from them.
CREATE TABLE known_signer (
    public   TEXT PRIMARY KEY,
    added_at INTEGER NOT NULL
) STRICT;
