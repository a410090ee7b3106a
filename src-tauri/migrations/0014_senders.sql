-- Who made each change, as the server authenticated them: the timeline shows the real
-- sender's name (and their Matrix id in the detail), never a name carried inside a post.
ALTER TABLE checkin_event ADD COLUMN by_name TEXT;  -- a team member's display name
ALTER TABLE checkin_event ADD COLUMN via TEXT;      -- 'app', 'notification' or 'chat'

-- Which events came from the app on a member's device (not a volunteer's chat): the devices
-- that may post a missed check-in, ranked the same way on every device.
ALTER TABLE team_event_seen ADD COLUMN app INTEGER NOT NULL DEFAULT 0;

-- How long after it is due (or after coming back online) a missed post waits for a device
-- ranked before this one to post it first.
ALTER TABLE team_outbox ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;
