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

DO $$ BEGIN
  CREATE ROLE "lantern_owner" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_owner' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  CREATE ROLE "lantern_intake" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_intake' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_intake" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  CREATE ROLE "lantern_router" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_router' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_router" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  CREATE ROLE "lantern_delivery" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_delivery' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_delivery" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  CREATE ROLE "lantern_ledger" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_ledger' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_ledger" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  CREATE ROLE "lantern_escalation" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_escalation' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_escalation" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  CREATE ROLE "lantern_workspace" LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lantern_workspace' AND (NOT rolcanlogin OR rolsuper
      OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE "lantern_workspace" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
REVOKE ALL ON DATABASE "lantern" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT, CREATE ON DATABASE "lantern" TO "lantern_owner";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_intake";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_router";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_delivery";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_ledger";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_escalation";
GRANT CONNECT ON DATABASE "lantern" TO "lantern_workspace";
CREATE SCHEMA IF NOT EXISTS "intake" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "intake" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "intake" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'intake' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'intake' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "intake" TO "lantern_intake";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "intake" TO "lantern_intake";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "intake" TO "lantern_intake";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "intake" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_intake";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "intake" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_intake";
CREATE SCHEMA IF NOT EXISTS "router" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "router" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "router" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'router' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'router' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "router" TO "lantern_router";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "router" TO "lantern_router";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "router" TO "lantern_router";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "router" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_router";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "router" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_router";
CREATE SCHEMA IF NOT EXISTS "delivery" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "delivery" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "delivery" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'delivery' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'delivery' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "delivery" TO "lantern_delivery";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "delivery" TO "lantern_delivery";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "delivery" TO "lantern_delivery";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "delivery" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_delivery";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "delivery" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_delivery";
CREATE SCHEMA IF NOT EXISTS "ledger" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "ledger" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "ledger" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'ledger' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'ledger' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "ledger" TO "lantern_ledger";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "ledger" TO "lantern_ledger";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "ledger" TO "lantern_ledger";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "ledger" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_ledger";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "ledger" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_ledger";
CREATE SCHEMA IF NOT EXISTS "audit" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "audit" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "audit" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'audit' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'audit' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "audit" TO "lantern_ledger";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "audit" TO "lantern_ledger";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "audit" TO "lantern_ledger";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "audit" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_ledger";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "audit" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_ledger";
CREATE SCHEMA IF NOT EXISTS "escalation" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "escalation" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "escalation" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'escalation' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'escalation' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "escalation" TO "lantern_escalation";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "escalation" TO "lantern_escalation";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "escalation" TO "lantern_escalation";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "escalation" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_escalation";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "escalation" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_escalation";
CREATE SCHEMA IF NOT EXISTS "workspace" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "workspace" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "workspace" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'workspace' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'workspace' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "workspace" TO "lantern_workspace";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "workspace" TO "lantern_workspace";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "workspace" TO "lantern_workspace";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "workspace" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_workspace";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "workspace" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "lantern_workspace";
GRANT USAGE ON SCHEMA "audit" TO "lantern_workspace";
GRANT SELECT ON ALL TABLES IN SCHEMA "audit" TO "lantern_workspace";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "audit" GRANT SELECT ON TABLES TO "lantern_workspace";
GRANT USAGE ON SCHEMA "ledger" TO "lantern_workspace";
DO $$ BEGIN
  IF to_regclass('ledger.entries') IS NOT NULL THEN
    GRANT SELECT ON "ledger"."entries" TO "lantern_workspace";
  END IF;
END $$;
CREATE SCHEMA IF NOT EXISTS "sealed" AUTHORIZATION "lantern_owner";
ALTER SCHEMA "sealed" OWNER TO "lantern_owner";
REVOKE ALL ON SCHEMA "sealed" FROM PUBLIC;
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'sealed' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND pg_get_userbyid(c.relowner) <> 'lantern_owner'
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "lantern_owner"',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'sealed' AND pg_get_userbyid(p.proowner) <> 'lantern_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO "lantern_owner"', obj.name);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA "sealed" TO "lantern_intake";
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "sealed" TO "lantern_intake";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "sealed" GRANT SELECT, INSERT ON TABLES TO "lantern_intake";
GRANT USAGE ON SCHEMA "sealed" TO "lantern_router";
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "sealed" TO "lantern_router";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "sealed" GRANT SELECT, INSERT ON TABLES TO "lantern_router";
GRANT USAGE ON SCHEMA "sealed" TO "lantern_delivery";
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "sealed" TO "lantern_delivery";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "sealed" GRANT SELECT, INSERT ON TABLES TO "lantern_delivery";
GRANT USAGE ON SCHEMA "sealed" TO "lantern_ledger";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "sealed" TO "lantern_ledger";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "sealed" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "lantern_ledger";
GRANT USAGE ON SCHEMA "sealed" TO "lantern_workspace";
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "sealed" TO "lantern_workspace";
ALTER DEFAULT PRIVILEGES FOR ROLE "lantern_owner" IN SCHEMA "sealed" GRANT SELECT, INSERT ON TABLES TO "lantern_workspace";
