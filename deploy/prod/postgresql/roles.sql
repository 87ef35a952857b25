-- Roles of a production database, run once as the superuser after `trace-admin migrate` created
-- the tables (the `trace` role owns them: it runs the migrations and the services' writes).
--   psql -U postgres -d trace -v ON_ERROR_STOP=1 -f roles.sql
-- Passwords are set separately: \password trace_read, \password replicator.

-- Streaming replication and base backups.
CREATE ROLE replicator WITH REPLICATION LOGIN;

-- trace-api's public routes on the replicas: read only. A replica refuses writes anyway; the
-- role makes the same true if TRACE_API_READ_DB_URL ever points at the primary.
CREATE ROLE trace_read WITH LOGIN;
GRANT CONNECT ON DATABASE trace TO trace_read;
GRANT USAGE ON SCHEMA public TO trace_read;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO trace_read;
ALTER DEFAULT PRIVILEGES FOR ROLE trace IN SCHEMA public GRANT SELECT ON TABLES TO trace_read;
-- The API tokens' and users' secrets are hashes, but trace-api's public routes never read them.
REVOKE SELECT ON api_tokens, users FROM trace_read;
