-- Who may read an attachment's content: the devices that hold it (the one
-- whose chunk completed the upload, and any that proved possession by sending
-- the same bytes again), besides the devices whose partitions' feed names it.
-- Knowing a content's SHA-256 alone no longer reads it.
CREATE TABLE attachment_holders (
  sha256 text NOT NULL REFERENCES attachments (sha256) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  since bigint NOT NULL,
  PRIMARY KEY (sha256, device_id)
);

-- A device's proof in progress for content already complete: the bytes it
-- has sent so far, each equal to the stored bytes at its place.
CREATE TABLE attachment_proofs (
  sha256 text NOT NULL REFERENCES attachments (sha256) ON DELETE CASCADE,
  device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  received bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (sha256, device_id)
);

-- The attachment rows of the feed by their content, for the read check.
CREATE INDEX feed_attachment_sha256_idx ON feed ((data ->> 'sha256')) WHERE entity = 'attachment';
