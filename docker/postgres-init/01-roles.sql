-- OpsLedger roles and database for the postgres:15 container.
--
-- Runs once, when the container initialises an empty data directory
-- (/docker-entrypoint-initdb.d), as the superuser, with psql's ON_ERROR_STOP.
-- The passwords come from the container's environment (see compose.yml)
-- through psql's \getenv (psql 15 or newer).
--
--   opsledger_app     NOLOGIN group role; the migrations grant it SELECT and
--                     INSERT on the event log (nothing more).
--   opsledger_owner   LOGIN; owns database opsledger and runs the migrations
--                     (OPSLEDGER_MIGRATION_DATABASE_URL).
--   opsledger_server  LOGIN, member of opsledger_app; the server connects as
--                     this role (DATABASE_URL).

\getenv owner_password OPSLEDGER_OWNER_PASSWORD
\getenv server_password OPSLEDGER_SERVER_PASSWORD

\if :{?owner_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'OPSLEDGER_OWNER_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?server_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'OPSLEDGER_SERVER_PASSWORD is not set in the postgres container'; END $$;
\endif

-- Migration V1 also creates this role when it is missing; creating it here
-- means the owner needs no CREATEROLE.
SELECT 'CREATE ROLE opsledger_app NOLOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsledger_app')
\gexec

SELECT format('CREATE ROLE opsledger_owner LOGIN PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsledger_owner')
\gexec

SELECT format('CREATE ROLE opsledger_server LOGIN PASSWORD %L IN ROLE opsledger_app', :'server_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opsledger_server')
\gexec

SELECT 'CREATE DATABASE opsledger OWNER opsledger_owner ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'opsledger')
\gexec

-- Only the owner and members of opsledger_app may connect.
REVOKE CONNECT, TEMPORARY ON DATABASE opsledger FROM PUBLIC;
GRANT CONNECT ON DATABASE opsledger TO opsledger_owner, opsledger_app;
