-- Password tries, counted per login and per source address (server/src/auth/failures.ts).
-- login_failures kept unkeyed SHA-256 hashes of logins, from which a password typed into
-- the login field could be found by guessing: it goes, and its counts with it.
DROP TABLE login_failures;

-- `key`: an HMAC of the login (or the source) with a key of server_keys, never the login.
CREATE TABLE login_guard (
  key text PRIMARY KEY,
  -- Failures in a row (a run left alone past the forget time starts again).
  count integer NOT NULL,
  last_at bigint NOT NULL,
  -- No try is looked at before this time (the delay the failures earned).
  next_at bigint NOT NULL DEFAULT 0,
  -- A try of this login is being checked until then: a parallel one is refused.
  busy_until bigint NOT NULL DEFAULT 0,
  -- Locked after too many failures: until an administrator unblocks the user.
  locked_at bigint
);
CREATE INDEX login_guard_last_at_idx ON login_guard (last_at);
