-- Choices that belong to the record rather than to one window, such as which time zone the
-- screens show. One row per setting; a missing row means the default.
CREATE TABLE app_setting (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
