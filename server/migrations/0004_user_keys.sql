-- User keys (core/auth/change-key.ts): issued at an online login for one user
-- at one device; a pushed change applies only with the MAC of its author's
-- key. The secret is not stored: it is HMAC(the 'user-key-hmac' server key,
-- id), so a copy of this table alone forges nothing.
CREATE TABLE user_keys (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id),
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  -- The user's last online proof at this device (a login, or a recheck).
  last_online_at bigint NOT NULL,
  -- Set when the user is blocked or their password is reset.
  revoked_at bigint
);

CREATE INDEX user_keys_user_device_idx ON user_keys (user_id, device_id);
