-- Lantern's PostgreSQL roles for database lantern: one owner that
-- migrations run as (DATABASE_OWNER_URL) and one role per service
-- (DATABASE_URL), which may use the rows of its own schemas only, plus the
-- explicit reads below. Generated from pkg/dbroles by `lantern db grants`;
-- run it as a superuser with psql -v ON_ERROR_STOP=1 -d lantern, again
-- whenever Lantern's role table changes (it is idempotent), then give each
-- role a password (\password <role>) or another login method.
--
-- workspace reads every table of audit: audit pages: timeliness report and incident timelines from the ledger's projection.
-- workspace reads ledger.entries: trying a routing policy replays the period's ledger entries (router/simulate).

DO $roles$
DECLARE role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['lantern_owner', 'lantern_intake', 'lantern_router', 'lantern_delivery', 'lantern_ledger', 'lantern_escalation', 'lantern_workspace']::text[] LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', role_name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name AND (NOT rolcanlogin OR rolsuper
        OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
      EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', role_name);
    END IF;
  END LOOP;
END $roles$;
REVOKE ALL ON DATABASE "lantern" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT, CREATE ON DATABASE "lantern" TO "lantern_owner";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_intake", "lantern_router", "lantern_delivery", "lantern_ledger", "lantern_escalation", "lantern_workspace";
DO $schemas$
DECLARE owner_name text := 'lantern_owner'; s record; obj record;
BEGIN
  FOR s IN SELECT * FROM unnest(ARRAY['intake', 'router', 'delivery', 'ledger', 'audit', 'escalation', 'workspace', 'sealed']::text[],
      ARRAY['lantern_intake', 'lantern_router', 'lantern_delivery', 'lantern_ledger', 'lantern_ledger', 'lantern_escalation', 'lantern_workspace', '']::text[]) AS t(schema_name, role_name)
  LOOP
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', s.schema_name, owner_name);
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', s.schema_name, owner_name);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', s.schema_name);
    FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = s.schema_name AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> owner_name
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
              WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
    LOOP
      EXECUTE format('ALTER %s %s OWNER TO %I',
        CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
        obj.name, owner_name);
    END LOOP;
    FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = s.schema_name AND pg_get_userbyid(p.proowner) <> owner_name
    LOOP
      EXECUTE format('ALTER FUNCTION %s OWNER TO %I', obj.name, owner_name);
    END LOOP;
    CONTINUE WHEN s.role_name = '';
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s.schema_name, s.role_name);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s.schema_name, s.role_name);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', s.schema_name, s.role_name);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
      owner_name, s.schema_name, s.role_name);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I',
      owner_name, s.schema_name, s.role_name);
  END LOOP;
END $schemas$;
DO $grants$
DECLARE owner_name text := 'lantern_owner'; g record; role_name text;
BEGIN
  FOR g IN SELECT * FROM (VALUES
      ('audit', '', 'SELECT', ARRAY['lantern_workspace']::text[]),
      ('ledger', 'entries', 'SELECT', ARRAY['lantern_workspace']::text[]),
      ('sealed', '', 'SELECT, INSERT', ARRAY['lantern_intake', 'lantern_router', 'lantern_delivery', 'lantern_workspace']::text[]),
      ('sealed', '', 'SELECT, INSERT, UPDATE, DELETE', ARRAY['lantern_ledger']::text[])
    ) AS t(schema_name, table_name, privileges, role_names)
  LOOP
    FOREACH role_name IN ARRAY g.role_names LOOP
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', g.schema_name, role_name);
      IF g.table_name = '' THEN
        EXECUTE format('GRANT %s ON ALL TABLES IN SCHEMA %I TO %I', g.privileges, g.schema_name, role_name);
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON TABLES TO %I',
          owner_name, g.schema_name, g.privileges, role_name);
      ELSIF to_regclass(format('%I.%I', g.schema_name, g.table_name)) IS NOT NULL THEN
        EXECUTE format('GRANT %s ON %I.%I TO %I', g.privileges, g.schema_name, g.table_name, role_name);
      END IF;
    END LOOP;
  END LOOP;
END $grants$;
