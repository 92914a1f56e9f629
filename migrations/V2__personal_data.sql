-- Personal data: per-subject keys, the blind index, and the access log.
-- Keys are stored wrapped (AES-256-GCM) by the master key, which comes from
-- configuration and is never stored in the database. Deleting a subject's
-- key erases every value sealed under it (crypto-shredding) without
-- touching the event log.

CREATE TABLE subject_keys (
    subject_id      uuid        NOT NULL,
    -- Named in every sealed value, so a future re-keying can tell keys apart.
    key_id          uuid        NOT NULL,
    -- nonce ‖ ciphertext ‖ tag; the AAD is the subject id.
    wrapped_key     bytea       NOT NULL,
    -- Which master key wrapped it (an id derived from the key, not the key).
    master_key_id   text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subject_keys_pkey PRIMARY KEY (subject_id)
);

-- Keys the system itself needs, such as the blind-index key.
CREATE TABLE system_keys (
    name            text        NOT NULL,
    wrapped_key     bytea       NOT NULL,
    master_key_id   text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT system_keys_pkey PRIMARY KEY (name)
);

-- Exact-match lookup of a subject by contact: HMAC-SHA256 of the normalised
-- value under the blind-index key. Erasure deletes a subject's rows.
CREATE TABLE subject_index (
    kind            text        NOT NULL CHECK (kind IN ('phone', 'email', 'customer_ref')),
    digest          bytea       NOT NULL CHECK (octet_length(digest) = 32),
    subject_id      uuid        NOT NULL,
    CONSTRAINT subject_index_pkey PRIMARY KEY (kind, digest, subject_id)
);
CREATE INDEX subject_index_subject ON subject_index (subject_id);

-- Every response that revealed a subject's personal data in clear.
CREATE TABLE pii_access (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,
    subject_id      uuid        NOT NULL,
    endpoint        text        NOT NULL,
    request_id      text        NOT NULL,
    CONSTRAINT pii_access_pkey PRIMARY KEY (id)
);
CREATE INDEX pii_access_subject ON pii_access (subject_id, id);
CREATE INDEX pii_access_actor ON pii_access (actor, id);
CREATE INDEX pii_access_at ON pii_access (at, id);

-- Whose personal data a ticket and a stored response carry, so erasure
-- finds them.
ALTER TABLE tickets ADD COLUMN subject_id uuid;
CREATE INDEX tickets_subject ON tickets (subject_id) WHERE subject_id IS NOT NULL;
ALTER TABLE idempotency_keys ADD COLUMN subject_id uuid;
CREATE INDEX idempotency_keys_subject ON idempotency_keys (subject_id) WHERE subject_id IS NOT NULL;

GRANT SELECT, INSERT, DELETE ON subject_keys TO opsledger_app;
GRANT SELECT, INSERT ON system_keys TO opsledger_app;
GRANT SELECT, INSERT, DELETE ON subject_index TO opsledger_app;
-- The access log is append-only for the server, like the event log.
GRANT SELECT, INSERT ON pii_access TO opsledger_app;
GRANT DELETE ON idempotency_keys TO opsledger_app;
