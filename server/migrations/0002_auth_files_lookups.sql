-- Login challenges and failures, attachments (chunked, addressed by
-- SHA-256), and the look-up tables standing in for the state databases of
-- individuals and legal entities and the notary system's powers of attorney.
-- Times are bigint ms since the Unix epoch (UTC).

-- A nonce for an EDS login, bound to the device that asked for it, used once.
CREATE TABLE challenges (
  nonce text PRIMARY KEY,
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint
);
CREATE INDEX challenges_expires_idx ON challenges (expires_at);

-- Password logins look the login up case-insensitively.
CREATE INDEX users_login_lower_idx ON users (lower(login));

-- Failed password logins in a row, per login: the next try waits longer.
-- The key is a hash of the login, never the login (people type passwords into the login field).
CREATE TABLE login_failures (
  key text PRIMARY KEY,
  count integer NOT NULL,
  last_at bigint NOT NULL
);

-- An attachment's content, by its SHA-256: `received` bytes so far (the next
-- chunk must start there), complete once all of it arrived and hashed right.
CREATE TABLE attachments (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint NOT NULL CHECK (size > 0),
  mime text NOT NULL,
  received bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
  complete boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

-- The chunks of an attachment as they arrived, each at most MAX_CHUNK_BYTES.
CREATE TABLE attachment_chunks (
  sha256 text NOT NULL REFERENCES attachments (sha256) ON DELETE CASCADE,
  "offset" bigint NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (sha256, "offset")
);

-- The look-up seed (and any "applications of this person") reads applications by applicant.
CREATE INDEX applications_applicant_iin_idx ON applications (applicant_iin);

-- The state database of individuals (ГБД ФЛ): what a look-up by IIN answers.
CREATE TABLE individuals (
  iin text PRIMARY KEY CHECK (iin ~ '^[0-9]{12}$'),
  surname text NOT NULL,
  given_name text NOT NULL,
  patronymic text,
  birth_date text NOT NULL,
  sex text NOT NULL CHECK (sex IN ('male', 'female')),
  address text
);

-- The state database of legal entities (ГБД ЮЛ): what a look-up by BIN answers.
CREATE TABLE legal_entities (
  bin text PRIMARY KEY CHECK (bin ~ '^[0-9]{12}$'),
  name_kk text NOT NULL,
  name_ru text NOT NULL,
  head_iin text,
  head_name text,
  address text,
  registered_at text NOT NULL
);

-- The notary system's powers of attorney (ЕНИС).
CREATE TABLE powers_of_attorney (
  number text PRIMARY KEY,
  principal_iin text NOT NULL,
  agent_iin text NOT NULL,
  scope text NOT NULL,
  issued_at text NOT NULL,
  valid_until text NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  notary text NOT NULL
);
CREATE INDEX powers_of_attorney_principal_idx ON powers_of_attorney (principal_iin);
CREATE INDEX powers_of_attorney_agent_idx ON powers_of_attorney (agent_iin);
