-- Sign-in throttling on the local database, one row per lower-cased username tried, whether or
-- not such a user exists: unknown names are paused exactly like real ones, and the count lives
-- in the database, so separate processes (the window, the CLI) give the same answers and
-- parallel guesses are all counted. The row is locked while an attempt is reserved (see
-- auth.rs). On an office PostgreSQL, where every person signs in as their own login role,
-- failed connections are the server's to count and this table stays empty.
create table sign_in_throttle (
    username_key text primary key,
    -- attempts in a row that did not succeed, this one included once it is reserved
    failures     bigint not null,
    locked_until timestamptz,
    last_at      timestamptz not null
);
create index sign_in_throttle_last on sign_in_throttle (last_at);

-- The counters on users are replaced by this table.
update users set failed_logins = 0, locked_until = null;
