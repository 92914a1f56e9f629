-- The SHA-256 of each view's text as PostgreSQL prints it, kept with the
-- view by the database itself.
--
-- A rebuild judges every folded view against its row by this digest
-- (src/projections/rebuild.rs). Computing it there printed every stored
-- view as text, which at ten million events (1.9 GB of view text) was
-- the largest single cost of a rebuild in PostgreSQL. As a generated
-- column it is computed once per write of a view instead, from the view
-- written: nothing can store a digest that does not match its view, so a
-- view damaged by hand still differs from the rebuild's fold.
--
-- `convert_to` is STABLE only because a conversion between encodings
-- could in principle be redefined; the database's encoding is fixed when
-- the database is created, so for one database the digest of a view never
-- changes, which is what IMMUTABLE promises here.
CREATE FUNCTION ticket_view_digest(view jsonb) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN sha256(convert_to(view::text, 'UTF8'));

ALTER TABLE tickets
    ADD COLUMN view_digest bytea GENERATED ALWAYS AS (ticket_view_digest(view)) STORED;
