-- Uploads belong to the device that sends them. Each device sends content
-- whole into its own upload; only when all of it is there does the server
-- compare the digest of the whole with the address. Content already stored
-- is proved this way too (the device sends it again, and becomes a holder):
-- nothing the server answers depends on a part of the stored bytes, and a
-- device that may not read content sees the same as for content not here.
CREATE TABLE attachment_uploads (
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  size bigint NOT NULL CHECK (size > 0),
  mime text NOT NULL,
  received bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (sha256, device_id)
);

-- The chunks of a device's upload as they arrived, each at most MAX_CHUNK_BYTES.
CREATE TABLE attachment_upload_chunks (
  sha256 text NOT NULL,
  device_id uuid NOT NULL,
  "offset" bigint NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (sha256, device_id, "offset"),
  FOREIGN KEY (sha256, device_id) REFERENCES attachment_uploads (sha256, device_id) ON DELETE CASCADE
);

-- `attachments` now holds complete content only. An upload in progress under
-- the shared scheme is dropped (its device finds no upload and starts again),
-- and proofs by comparing chunks are gone.
DELETE FROM attachments WHERE NOT complete;
DROP TABLE attachment_proofs;

-- Who holds content, by office (the read check joins holders to their devices).
CREATE INDEX attachment_holders_device_idx ON attachment_holders (device_id);
