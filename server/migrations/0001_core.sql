-- The central server's core: the pull feed, devices, the directory, the
-- catalogue and calendars, applications with their events and signatures.
-- Times are bigint ms since the Unix epoch (UTC), as on the workstations.

-- Keys the server signs access tokens with (shared by every instance on this database).
CREATE TABLE server_keys (
  id text PRIMARY KEY,
  secret bytea NOT NULL,
  created_at bigint NOT NULL
);

-- One row per partition: its current version, moved in the transaction that
-- writes to it (the row lock orders writers, so versions commit in order).
CREATE TABLE partitions (
  partition text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 0
);
INSERT INTO partitions (partition, version) VALUES ('global', 0);

-- The pull feed: the latest state of each (entity, id) in a partition, or its
-- tombstone. Every row has a version of its own (no two rows of a partition
-- share one), so a page cut at any row loses nothing.
CREATE TABLE feed (
  partition text NOT NULL REFERENCES partitions (partition),
  entity text NOT NULL,
  id text NOT NULL,
  version bigint NOT NULL,
  op text NOT NULL CHECK (op IN ('upsert', 'delete')),
  data jsonb,
  PRIMARY KEY (partition, entity, id)
);
CREATE UNIQUE INDEX feed_partition_version_uq ON feed (partition, version);

CREATE TABLE regions (
  kato text PRIMARY KEY,
  name_kk text NOT NULL,
  name_ru text NOT NULL,
  name_en text NOT NULL
);

CREATE TABLE providers (
  id text PRIMARY KEY,
  bin text NOT NULL UNIQUE,
  name_kk text NOT NULL,
  name_ru text NOT NULL,
  name_en text NOT NULL,
  region_kato text NOT NULL REFERENCES regions (kato),
  locality_kk text NOT NULL,
  locality_ru text NOT NULL,
  locality_en text NOT NULL
);

CREATE TABLE users (
  id text PRIMARY KEY,
  login text NOT NULL UNIQUE,
  full_name text NOT NULL,
  iin text NOT NULL,
  email text,
  phone text,
  position_kk text,
  position_ru text,
  -- scrypt hash with its parameters and salt (main/auth/passwords.ts); never the password.
  password_hash text,
  must_change_password boolean NOT NULL DEFAULT false,
  blocked boolean NOT NULL DEFAULT false,
  updated_at bigint NOT NULL
);
CREATE INDEX users_iin_idx ON users (iin);

-- provider_id '' for roles bound to no provider (centre operator, system administrator).
CREATE TABLE user_roles (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('operator', 'clerk', 'executor', 'head', 'monitoring', 'admin')),
  provider_id text NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, role, provider_id)
);

CREATE TABLE provider_staff (
  provider_id text NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  position_kk text NOT NULL,
  position_ru text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  PRIMARY KEY (provider_id, user_id)
);

-- Service definitions and calendar years as the resources/ files hold them (validated at load).
CREATE TABLE services (
  code text PRIMARY KEY,
  version integer NOT NULL,
  definition jsonb NOT NULL
);

CREATE TABLE calendars (
  year integer PRIMARY KEY,
  definition jsonb NOT NULL
);

-- CRLs the server keeps current for the workstations' offline checks.
CREATE TABLE crls (
  sha256 text PRIMARY KEY,
  issuer text NOT NULL,
  this_update bigint NOT NULL,
  next_update bigint,
  der bytea NOT NULL
);

CREATE TABLE devices (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  provider_id text NOT NULL REFERENCES providers (id),
  -- SHA-256 of the device secret (the secret itself is only ever with the device).
  secret_sha256 text NOT NULL,
  enrolled_by text NOT NULL REFERENCES users (id),
  enrolled_at bigint NOT NULL,
  revoked_at bigint,
  -- The last seq applied or rejected; the next push must start at last_seq + 1.
  last_seq bigint NOT NULL DEFAULT 0,
  last_seen_at bigint
);

CREATE TABLE applications (
  id text PRIMARY KEY,
  number text NOT NULL,
  portal_number text,
  provider_id text NOT NULL REFERENCES providers (id),
  service_code text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('office', 'centre', 'portal')),
  applicant_iin text NOT NULL,
  applicant_bin text,
  applicant_name text NOT NULL,
  region_kato text NOT NULL,
  locality text NOT NULL,
  status text NOT NULL,
  decision text NOT NULL DEFAULT 'none',
  responsible_user_id text REFERENCES users (id),
  current_step text,
  submitted_at bigint NOT NULL,
  status_changed_at bigint NOT NULL,
  due_at bigint,
  form_data jsonb NOT NULL,
  refusal_reason_code text,
  refusal_text text,
  rework_comment text,
  -- The feed version of the last write (what a push answers as its serverVersion).
  server_version bigint NOT NULL,
  UNIQUE (provider_id, number)
);

-- The server's own log of each application, hash-chained like the workstation's
-- (main/workflow/chain.ts), with the device and seq each event came from.
CREATE TABLE application_events (
  application_id text NOT NULL REFERENCES applications (id),
  seq integer NOT NULL,
  at bigint NOT NULL,
  actor_user_id text,
  action text NOT NULL,
  from_status text,
  to_status text,
  decision text,
  comment text,
  payload jsonb,
  device_id uuid,
  device_seq bigint,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (application_id, seq)
);

CREATE TABLE signatures (
  id text PRIMARY KEY,
  application_id text NOT NULL REFERENCES applications (id),
  format text NOT NULL,
  signed bytea NOT NULL,
  document_sha256 text NOT NULL,
  signer_iin text,
  signer_bin text,
  signer_name text NOT NULL,
  certificate_sha256 text NOT NULL,
  key_source text NOT NULL,
  user_id text,
  signed_at bigint NOT NULL,
  timestamped_at bigint
);
CREATE INDEX signatures_application_idx ON signatures (application_id);

-- Every change a device sent, applied or rejected: the exactly-once record
-- (primary key) and the audit of what the server did with it.
CREATE TABLE device_changes (
  device_id uuid NOT NULL REFERENCES devices (id),
  seq bigint NOT NULL,
  op text NOT NULL,
  entity text NOT NULL,
  entity_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('applied', 'rejected')),
  reason text,
  message text,
  server_version bigint,
  protocol_version integer NOT NULL,
  schema_version integer NOT NULL,
  created_at bigint NOT NULL,
  received_at bigint NOT NULL,
  payload jsonb NOT NULL,
  PRIMARY KEY (device_id, seq)
);
