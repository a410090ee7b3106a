-- The do-not-knock register: addresses canvassers must not visit. Entries are flagged for
-- review on their review date, never deleted by the app on its own.
CREATE TABLE do_not_knock (
    id           INTEGER PRIMARY KEY,
    house        TEXT NOT NULL,             -- number or name
    street       TEXT NOT NULL,
    postcode     TEXT NOT NULL DEFAULT '',  -- tidy ("SW1A 1AA"), or '' when not known
    reason       TEXT NOT NULL CHECK (reason IN ('threat-or-violence', 'abusive', 'aggressive-dog',
                     'asked-not-to-visit', 'safeguarding', 'other')),
    note         TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source IN ('incident', 'party-list', 'canvasser')),
    incident_id  TEXT,                      -- the incident it came from, if any
    added_by     TEXT NOT NULL,
    added_at     INTEGER NOT NULL,          -- UTC milliseconds
    review_on    TEXT NOT NULL,             -- 'YYYY-MM-DD', UK date
    street_key   TEXT NOT NULL,             -- lower-case street, for matching an area
    postcode_key TEXT NOT NULL              -- postcode without spaces, for matching an area
) STRICT;

CREATE INDEX do_not_knock_postcode ON do_not_knock (postcode_key);
CREATE INDEX do_not_knock_street ON do_not_knock (street_key);
CREATE UNIQUE INDEX do_not_knock_address ON do_not_knock (lower(house), street_key, postcode_key);
