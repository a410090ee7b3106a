-- A word still being typed is read from a prefix index of its own length. With only 2 and
-- 3, a common word typed to 4 or 5 letters ("leafl") made SQLite merge every matching
-- word's postings: about 4 ms at 100,000 incidents. Prefixes of 4 and 5 take that to a
-- quarter of a millisecond (cargo bench --bench incidents). The index is rebuilt from the
-- rows it holds, so erased incidents, which have no row, stay out.
CREATE VIRTUAL TABLE incident_fts_next USING fts5 (
    what_happened, people, location, refs,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3 4 5'
);
INSERT INTO incident_fts_next (rowid, what_happened, people, location, refs)
    SELECT rowid, what_happened, people, location, refs FROM incident_fts;
DROP TABLE incident_fts;
ALTER TABLE incident_fts_next RENAME TO incident_fts;
