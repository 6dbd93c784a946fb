package oidcauth

import (
	"slices"
	"strings"
)

// ClaimNames name the claims that carry a person's role, organisation and
// organisation name. Each is a claim name or a dotted path into nested
// objects; a name that is itself a top-level claim wins over a path, so a
// URI-style claim such as "https://lantern.example/role" still works.
type ClaimNames struct {
	Role, Org, OrgName string
}

// Claims are what Lantern reads of a person from a verified token.
type Claims struct {
	Subject string
	Name    string
	// Roles are every value of the role claim; which of them are
	// Lantern's roles is the reader's decision.
	Roles []string
	// Orgs are every value of the organisation claim.
	Orgs    []string
	OrgName string
}

// HasRole reports whether role is among the person's roles.
func (c Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Read takes the mapped claims from a token's claims.
func (n ClaimNames) Read(subject string, all map[string]any) Claims {
	name, _ := all["name"].(string)
	orgNames := values(lookup(all, n.OrgName))
	c := Claims{Subject: subject, Name: name, Roles: values(lookup(all, n.Role)), Orgs: values(lookup(all, n.Org))}
	if len(orgNames) == 1 {
		c.OrgName = orgNames[0]
	}
	return c
}

// lookup finds a claim by name, or else by its dotted path.
func lookup(all map[string]any, name string) any {
	if name == "" {
		return nil
	}
	if v, ok := all[name]; ok {
		return v
	}
	var v any = all
	for part := range strings.SplitSeq(name, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[part]
	}
	return v
}

// values reads a claim as strings: one string, or an array of them. Any
// other shape, and any non-string element, is ignored rather than guessed
// at.
func values(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
