-- Do-not-knock entries shared with the team: one id on every device.
ALTER TABLE do_not_knock ADD COLUMN uid TEXT;
UPDATE do_not_knock SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
CREATE UNIQUE INDEX do_not_knock_uid ON do_not_knock (uid);
