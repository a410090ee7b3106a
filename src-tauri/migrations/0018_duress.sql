-- Duress (issue 26): a team's duress word, which the team's app devices share with one
-- another in an encrypted event Element does not show, and a silent alarm per session that a
-- check-in using it (or the duress PIN) raises on every other device of the team.
ALTER TABLE team ADD COLUMN duress_word TEXT;        -- lower case; NULL: none set
ALTER TABLE team ADD COLUMN duress_set_by TEXT;      -- Matrix id, as the server authenticated it
ALTER TABLE team ADD COLUMN duress_set_at INTEGER;   -- the server's time, UTC milliseconds

ALTER TABLE checkin_session ADD COLUMN duress_at INTEGER;               -- when it was signalled
ALTER TABLE checkin_session ADD COLUMN duress_by TEXT;                  -- who (Matrix id)
ALTER TABLE checkin_session ADD COLUMN duress_by_name TEXT;
ALTER TABLE checkin_session ADD COLUMN duress_how TEXT;                 -- 'word' or 'pin'
ALTER TABLE checkin_session ADD COLUMN duress_acknowledged_at INTEGER;
