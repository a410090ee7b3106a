-- Whether this device was confirmed (cross-signed by its owner) when last looked at. Room keys
-- go only to confirmed devices once it is; before, a device that is not confirmed itself
-- could not send at all under that rule, and an alarm must always go out (issue 24).
ALTER TABLE team_account ADD COLUMN device_confirmed INTEGER NOT NULL DEFAULT 0;
