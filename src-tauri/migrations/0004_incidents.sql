-- The incident log. Versions are the truth: each is an exact canonical JSON body, hash-
-- chained to the one before. `incident` holds the current version's searchable columns so
-- the list stays fast; `verify` checks that they agree with the chain.
CREATE TABLE incident (
    num             INTEGER PRIMARY KEY,       -- local row number, also the FTS rowid
    id              TEXT NOT NULL UNIQUE,      -- stable across export and import
    status          TEXT NOT NULL CHECK (status IN ('active', 'withdrawn', 'erased')),
    first_recorded  INTEGER NOT NULL,          -- set by the app, never editable
    last_recorded   INTEGER NOT NULL,
    occurred_from   INTEGER NOT NULL,
    occurred_to     INTEGER,
    category        TEXT NOT NULL,
    flags           INTEGER NOT NULL DEFAULT 0, -- bit set of warning signs
    reported        INTEGER NOT NULL DEFAULT 0,
    summary         TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    versions        INTEGER NOT NULL,
    -- Newest-first order as one integer: occurred_from in ms, shifted, plus the low bits
    -- of num. It is also the FTS rowid, so a search walks matches already in date order
    -- and stops after a page instead of sorting every match.
    sort_key        INTEGER UNIQUE
) STRICT;

CREATE INDEX incident_category ON incident (category, sort_key);

CREATE TABLE incident_version (
    incident_num INTEGER NOT NULL REFERENCES incident (num),
    version      INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('recorded', 'amended', 'withdrawn', 'erased')),
    recorded_at  INTEGER NOT NULL,
    body         TEXT,                       -- NULL once erased; the hash stays
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (incident_num, version)
) STRICT, WITHOUT ROWID;

-- People seen in more than one incident, so a course of conduct shows.
CREATE TABLE known_person (
    id         TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Which known people the current version of each incident links to.
CREATE TABLE incident_person (
    incident_num INTEGER NOT NULL REFERENCES incident (num),
    person_id    TEXT NOT NULL REFERENCES known_person (id),
    PRIMARY KEY (person_id, incident_num)
) STRICT, WITHOUT ROWID;

-- Files kept in the data folder under their SHA-256; named in incident versions.
CREATE TABLE attachment_file (
    sha256    TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    stored_at INTEGER NOT NULL
) STRICT;

-- porter: "shouting" finds "shouted". prefix '2 3': a word still being typed ("lea") is
-- read from a small prefix index instead of merging every matching word's postings.
CREATE VIRTUAL TABLE incident_fts USING fts5 (
    what_happened, people, location, refs,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3'
);
