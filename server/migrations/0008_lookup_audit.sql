-- Citizen look-ups (server/src/routes/lookups.ts): every one a device asks,
-- answered or refused, with who asked, from which device, why and what came
-- of it. The IIN, BIN or power-of-attorney number looked up is kept as an
-- HMAC under the 'lookup-audit-hmac' server key, not in clear: an auditor
-- asking "who looked up this person" computes the same HMAC, while the log
-- alone (an export, a reader of this table) names nobody. A plain SHA-256
-- would hide nothing: an IIN is a birth date, a sex digit, a serial and a
-- check digit, quickly enumerated.
CREATE TABLE lookup_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  device_id uuid NOT NULL,
  -- Null when the request proved no user.
  user_id text,
  kind text NOT NULL,
  subject_hmac text,
  -- Null when the request named none (it is refused then).
  purpose text,
  -- 'found', 'notFound', or the refusal's code (unauthorized, forbidden, bad_request, rate_limited).
  outcome text NOT NULL
);

CREATE INDEX lookup_audit_user_idx ON lookup_audit (user_id, at);
CREATE INDEX lookup_audit_subject_idx ON lookup_audit (subject_hmac);

-- A user's request proof is taken once: its MAC is kept for as long as its time is acceptable.
CREATE TABLE used_request_macs (
  mac text PRIMARY KEY,
  at bigint NOT NULL
);

CREATE INDEX used_request_macs_at_idx ON used_request_macs (at);

-- Users and staff positions left the global partition: they go to the partitions of the providers the
-- user works at (server/src/directory.ts). The rows already there move: each provider's users and staff
-- get new versions of its partition, and the global ones are dropped (a workstation that pulled them
-- keeps its copy; new ones never see another office's people).
INSERT INTO partitions (partition, version) SELECT 'provider:' || id, 0 FROM providers ON CONFLICT DO NOTHING;

-- A user goes to the offices they work at, and to those whose applications or signatures name them (a former
-- executor, a signer): a workstation's first sync must find everyone its rows name. Each office's copy holds
-- the user's roles there and their system-wide ones only.
WITH at_provider AS (
  SELECT provider_id, user_id FROM user_roles WHERE provider_id <> ''
  UNION SELECT provider_id, user_id FROM provider_staff
  UNION SELECT provider_id, responsible_user_id FROM applications WHERE responsible_user_id IS NOT NULL
  UNION SELECT a.provider_id, s.user_id FROM signatures s JOIN applications a ON a.id = s.application_id
   WHERE s.user_id IS NOT NULL
),
moved AS (
  SELECT 'provider:' || a.provider_id AS partition, f.entity, f.id,
         jsonb_set(f.data, '{roles}', COALESCE(
           (SELECT jsonb_agg(r) FROM jsonb_array_elements(f.data->'roles') r
             WHERE r->>'providerId' IN (a.provider_id, '')), '[]'::jsonb)) AS data,
         0 AS rank
    FROM at_provider a JOIN feed f ON f.partition = 'global' AND f.entity = 'user' AND f.id = a.user_id
   WHERE f.op = 'upsert'
  UNION ALL
  SELECT 'provider:' || s.provider_id, f.entity, f.id, f.data, 1
    FROM provider_staff s JOIN feed f ON f.partition = 'global' AND f.entity = 'staff'
         AND f.id = s.provider_id || ':' || s.user_id
   WHERE f.op = 'upsert'
),
numbered AS (
  SELECT m.*, row_number() OVER (PARTITION BY m.partition ORDER BY m.rank, m.id) AS n FROM moved m
),
counts AS (
  SELECT partition, count(*) AS total FROM numbered GROUP BY partition
),
bumped AS (
  UPDATE partitions p SET version = p.version + c.total FROM counts c WHERE p.partition = c.partition
  RETURNING p.partition, p.version, c.total
)
INSERT INTO feed (partition, entity, id, version, op, data)
SELECT n.partition, n.entity, n.id, b.version - b.total + n.n, 'upsert', n.data
  FROM numbered n JOIN bumped b ON b.partition = n.partition
ON CONFLICT (partition, entity, id) DO UPDATE SET version = EXCLUDED.version, op = EXCLUDED.op, data = EXCLUDED.data;

DELETE FROM feed WHERE partition = 'global' AND entity IN ('user', 'staff');
