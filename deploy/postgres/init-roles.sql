-- The database roles of the production shape (docker-compose.yml; issue 11).
--
-- Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d) when its data volume is
-- first created, as the bootstrap superuser, connected to POSTGRES_DB. Any other set-up runs it the
-- same way: psql --set ON_ERROR_STOP=1 --dbname <database> --file init-roles.sql, with the variables
-- below in the environment (psql 15's \getenv reads them; the passwords never appear in a file).
--
--   HG_DB_OWNER / HG_DB_OWNER_PASSWORD       the owner: runs `manage.py migrate`, so it owns every
--                                            table and function, the purge function included
--   HG_DB_RUNTIME / HG_DB_RUNTIME_PASSWORD   the runtime role of web, worker and beat
--   POSTGRES_DB                              the application's database
--
-- Neither role is a superuser, may create roles or databases, replicate or bypass row security, and
-- the runtime role is not a member of the owner: it owns nothing, so it cannot disable a trigger,
-- and `migrate` (audit.pg_privileges) takes back what it may not hold on the audit tables (UPDATE,
-- DELETE, TRUNCATE of the trail and the checkpoints; DELETE and TRUNCATE of the chain head).
-- A variable missing from the environment stops the script (psql leaves :'name' unreplaced, which
-- is a syntax error, and ON_ERROR_STOP ends it), so no role is ever created without a password.

\set ON_ERROR_STOP on
\getenv owner_role HG_DB_OWNER
\getenv owner_password HG_DB_OWNER_PASSWORD
\getenv runtime_role HG_DB_RUNTIME
\getenv runtime_password HG_DB_RUNTIME_PASSWORD
\getenv database POSTGRES_DB

BEGIN;

CREATE ROLE :"owner_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
CREATE ROLE :"runtime_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'runtime_password';

-- The owner owns the database, and so (PostgreSQL 15: pg_database_owner) the schema public.
ALTER DATABASE :"database" OWNER TO :"owner_role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"runtime_role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"runtime_role";

-- Every table and sequence the owner creates (every migration) is readable and writable by the
-- runtime role, as the application needs; on the audit tables `migrate` then revokes the rights an
-- append-only trail must not give (audit.pg_privileges).
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runtime_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"runtime_role";

COMMIT;
