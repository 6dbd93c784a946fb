// Package dbroles is the one table of the PostgreSQL roles Lantern's
// services connect as: the schemas each owns, and the few tables of another
// service it may read where a boundary needs it. From the table come the SQL
// an administrator runs once (`lantern db grants`, deploy/postgres/roles.sql),
// the set-up `make run` and the test clusters apply, and the grants the owner
// role renews after each migration.
//
// Migrations run as an owner role that owns every schema and creates every
// table; a service's own role can read and write the rows of its own
// schemas only, and cannot create, alter or drop anything, or truncate. A
// compromised service therefore reads no other service's data beyond its
// explicit read grants, and cannot rewrite the ledger's history.
package dbroles

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Read is another service's table that a service may read. Table "" means
// every table of the schema, present and future.
type Read struct {
	Schema, Table string
	// Why names the boundary that needs the read.
	Why string
}

// Service is one service's role: the schemas it owns and what else it may
// read.
type Service struct {
	Name  string
	Owns  []string
	Reads []Read
	// Keys is what the service may do with the incidents' wrapped data
	// keys in the shared KeysSchema (pkg/sealed).
	Keys KeyAccess
}

// KeyAccess is a service's use of the keys schema.
type KeyAccess int

const (
	// NoKeys: the service stores no personal data.
	NoKeys KeyAccess = iota
	// SealKeys reads keys and makes an incident's key on first use.
	SealKeys
	// ShredKeys also destroys keys (retention) and rewraps them
	// (rotation).
	ShredKeys
)

// KeysSchema is the schema of the wrapped data keys, shared by every
// service that seals personal data and owned by the owner role alone.
const KeysSchema = "sealed"

// Services is the table. A service without a database (the gateway) has
// no role.
var Services = []Service{
	{Name: "intake", Owns: []string{"intake"}, Keys: SealKeys},
	{Name: "router", Owns: []string{"router"}, Keys: SealKeys},
	{Name: "delivery", Owns: []string{"delivery"}, Keys: SealKeys},
	{Name: "ledger", Owns: []string{"ledger", "audit"}, Keys: ShredKeys},
	{Name: "escalation", Owns: []string{"escalation"}},
	{Name: "workspace", Owns: []string{"workspace"}, Keys: SealKeys, Reads: []Read{
		{Schema: "audit", Why: "audit pages: timeliness report and incident timelines from the ledger's projection"},
		{Schema: "ledger", Table: "entries", Why: "trying a routing policy replays the period's ledger entries (router/simulate)"},
	}},
}

// DefaultPrefix names the roles of a deployment: lantern_owner,
// lantern_intake and so on.
const DefaultPrefix = "lantern"

// ownerSuffix ends the owner role's name.
const ownerSuffix = "_owner"

// Roles names one deployment's roles, <prefix>_owner and
// <prefix>_<service>. Test clusters sharing one server use a prefix each.
type Roles struct{ Prefix string }

var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// Check refuses a prefix that would not make plain, short role names.
func (r Roles) Check() error {
	if !prefixPattern.MatchString(r.Prefix) {
		return fmt.Errorf("role prefix %q: use lower-case letters, digits and _ (at most 41), starting with a letter", r.Prefix)
	}
	return nil
}

// Owner is the role migrations run as.
func (r Roles) Owner() string { return r.Prefix + ownerSuffix }

// Of is the service's role.
func (r Roles) Of(service string) string { return r.Prefix + "_" + service }

// FromOwner finds the roles of the deployment whose owner role is owner.
func FromOwner(owner string) (Roles, error) {
	prefix, ok := strings.CutSuffix(owner, ownerSuffix)
	r := Roles{Prefix: prefix}
	if !ok {
		return r, fmt.Errorf("the migrating role %q is not an owner role (<prefix>%s)", owner, ownerSuffix)
	}
	return r, r.Check()
}

// Lookup returns the named service's row.
func Lookup(name string) (Service, bool) {
	i := slices.IndexFunc(Services, func(s Service) bool { return s.Name == name })
	if i < 0 {
		return Service{}, false
	}
	return Services[i], true
}

// Schemas lists every schema some service owns, in table order.
func Schemas() []string {
	var out []string
	for _, s := range Services {
		out = append(out, s.Owns...)
	}
	return out
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func table(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// Setup is the SQL an administrator (a superuser, or a role that is a
// member of the owner role and may create roles) runs once in database,
// and again after the table changes: it is idempotent. Roles are created
// without passwords; SetPassword sets one. The statements loop over the
// table's rows in PL/pgSQL, so that each step is written once however many
// roles and schemas there are.
func (r Roles) Setup(database string) ([]string, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	owner := ident(r.Owner())
	roles := []string{r.Owner()}
	services := make([]string, 0, len(Services))
	for _, s := range Services {
		roles = append(roles, r.Of(s.Name))
		services = append(services, ident(r.Of(s.Name)))
	}
	// The keys schema is the owner's alone; grants give the services its
	// rows.
	schemas, owners := append(Schemas(), KeysSchema), []string{}
	for _, schema := range schemas[:len(schemas)-1] {
		owners = append(owners, r.Of(ownerOf(schema)))
	}
	db := ident(database)
	return []string{
		createRoles(roles),
		// Nobody else connects, creates temporary tables or schemas.
		"REVOKE ALL ON DATABASE " + db + " FROM PUBLIC",
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		"GRANT CONNECT, CREATE ON DATABASE " + db + " TO " + owner,
		"GRANT CONNECT ON DATABASE " + db + " TO " + strings.Join(services, ", "),
		takeSchemas(r.Owner(), schemas, append(owners, "")),
		grantAll(r.Owner(), r.grants()),
	}, nil
}

// grant is some roles' use of one schema: of its every table, present and
// future, when Table is "", else of that one table if it exists (and
// again after each migration, AfterMigrate, since a grant needs its
// table).
type grant struct {
	Schema, Table, Privileges string
	Roles                     []string
}

// grants are the reads of the table, and the services' use of the keys
// schema: reading and adding keys, and for the shredding service, deleting
// and rewrapping them.
func (r Roles) grants() []grant {
	var out []grant
	for _, s := range Services {
		for _, rd := range s.Reads {
			out = append(out, grant{Schema: rd.Schema, Table: rd.Table, Privileges: "SELECT", Roles: []string{r.Of(s.Name)}})
		}
	}
	seal := grant{Schema: KeysSchema, Privileges: "SELECT, INSERT"}
	shred := grant{Schema: KeysSchema, Privileges: "SELECT, INSERT, UPDATE, DELETE"}
	for _, s := range Services {
		switch s.Keys {
		case SealKeys:
			seal.Roles = append(seal.Roles, r.Of(s.Name))
		case ShredKeys:
			shred.Roles = append(shred.Roles, r.Of(s.Name))
		}
	}
	return append(out, seal, shred)
}

// literal quotes s as an SQL string.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// array is names as an SQL text array.
func array(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = literal(n)
	}
	return "ARRAY[" + strings.Join(quoted, ", ") + "]::text[]"
}

// createRoles creates login roles with no powers beyond logging in, or
// strips them from ones that exist (which only a superuser may). Two
// set-ups at once on one server (test clusters) may race to create a role;
// the loser finds it made.
func createRoles(names []string) string {
	return `DO $roles$
DECLARE role_name text;
BEGIN
  FOREACH role_name IN ARRAY ` + array(names) + ` LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', role_name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name AND (NOT rolcanlogin OR rolsuper
        OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
      EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', role_name);
    END IF;
  END LOOP;
END $roles$`
}

// takeSchemas gives each schema to the owner, closed to everyone else,
// with every table, sequence, view and function made in it by another role
// (a deployment whose services migrated as one all-powerful role, before
// the owner role existed); a sequence owned by a table's column follows its
// table. The service role beside each schema ("" for none) may use the
// rows and sequences of its tables, present and future.
func takeSchemas(owner string, schemas, services []string) string {
	return `DO $schemas$
DECLARE owner_name text := ` + literal(owner) + `; s record; obj record;
BEGIN
  FOR s IN SELECT * FROM unnest(` + array(schemas) + `,
      ` + array(services) + `) AS t(schema_name, role_name)
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
END $schemas$`
}

// grantAll grants each of grants to each of its roles, one grant a line.
// The privileges on tables the owner makes later are those on the tables
// there now.
func grantAll(owner string, grants []grant) string {
	rows := make([]string, len(grants))
	for i, g := range grants {
		rows[i] = "      (" + literal(g.Schema) + ", " + literal(g.Table) + ", " + literal(g.Privileges) + ", " + array(g.Roles) + ")"
	}
	return `DO $grants$
DECLARE owner_name text := ` + literal(owner) + `; g record; role_name text;
BEGIN
  FOR g IN SELECT * FROM (VALUES
` + strings.Join(rows, ",\n") + `
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
END $grants$`
}

// AfterMigrate is what the owner grants once the migrations of schema have
// run: the reads of single tables in it, which exist only now.
func (r Roles) AfterMigrate(schema string) []string {
	var stmts []string
	for _, s := range Services {
		for _, rd := range s.Reads {
			if rd.Schema == schema && rd.Table != "" {
				stmts = append(stmts, "GRANT SELECT ON "+table(rd.Schema, rd.Table)+" TO "+ident(r.Of(s.Name)))
			}
		}
	}
	return stmts
}

func ownerOf(schema string) string {
	for _, s := range Services {
		if slices.Contains(s.Owns, schema) {
			return s.Name
		}
	}
	return ""
}

var passwordPattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{16,}$`)

// SetPassword sets role's password. Passwords here are generated ones
// (letters, digits, - and _), which need no quoting; PostgreSQL stores
// them as SCRAM verifiers.
func SetPassword(role, password string) (string, error) {
	if !passwordPattern.MatchString(password) {
		return "", errors.New("a role password must be at least 16 letters, digits, - or _")
	}
	return "ALTER ROLE " + ident(role) + " PASSWORD '" + password + "'", nil
}

// Drop removes the roles, for a test server shared by many clusters; run
// it once their database is gone.
func (r Roles) Drop() []string {
	stmts := []string{"DROP ROLE IF EXISTS " + ident(r.Owner())}
	for _, s := range Services {
		stmts = append(stmts, "DROP ROLE IF EXISTS "+ident(r.Of(s.Name)))
	}
	return stmts
}

// Script renders the set-up for database as a psql script, with what to
// do after it.
func Script(database string, stmts []string) string {
	var b strings.Builder
	b.WriteString(`-- Lantern's PostgreSQL roles for database ` + database + `: one owner that
-- migrations run as (DATABASE_OWNER_URL) and one role per service
-- (DATABASE_URL), which may use the rows of its own schemas only, plus the
-- explicit reads below. Generated from pkg/dbroles by ` + "`lantern db grants`" + `;
-- run it as a superuser with psql -v ON_ERROR_STOP=1 -d ` + database + `, again
-- whenever Lantern's role table changes (it is idempotent), then give each
-- role a password (\password <role>) or another login method.
--
`)
	for _, s := range Services {
		for _, rd := range s.Reads {
			what := rd.Schema + "." + rd.Table
			if rd.Table == "" {
				what = "every table of " + rd.Schema
			}
			fmt.Fprintf(&b, "-- %s reads %s: %s.\n", s.Name, what, rd.Why)
		}
	}
	b.WriteString("\n")
	for _, s := range stmts {
		b.WriteString(s)
		b.WriteString(";\n")
	}
	return b.String()
}
