-- When a version came in from another device's evidence pack. This device signs every
-- version it records; one without a signature is only expected from a pack made by an
-- earlier version of the app, and "Check the record" flags any other.
ALTER TABLE incident_version ADD COLUMN imported_at INTEGER;  -- UTC milliseconds
