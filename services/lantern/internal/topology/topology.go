// Package topology is the one table of Lantern's services as `make run` and
// the test cluster start them: which listeners each has, the variables that
// place them, and the gateway's routes between them.
package topology

import (
	"fmt"
	"maps"
	"strings"
)

// Service is one service binary and the variables that place its listeners.
type Service struct {
	Name string
	// HTTPEnv names the variable of its public listener; empty for a
	// service that serves no API.
	HTTPEnv string
	// AdminEnv names the variable of its admin listener (/healthz, /readyz).
	AdminEnv string
	// KeyedIDs is set for a service that derives event ids from what
	// other services see, and so needs a LANTERN_EVENT_ID_KEY of its own.
	KeyedIDs bool
}

// Services lists every service in start order: the gateway last, once what
// it forwards to is listening.
var Services = []Service{
	{Name: "intake", HTTPEnv: "INTAKE_HTTP_ADDR", AdminEnv: "INTAKE_ADMIN_ADDR"},
	{Name: "router", AdminEnv: "ROUTER_ADMIN_ADDR", KeyedIDs: true},
	{Name: "delivery", AdminEnv: "DELIVERY_ADMIN_ADDR", KeyedIDs: true},
	{Name: "ledger", HTTPEnv: "LEDGER_HTTP_ADDR", AdminEnv: "LEDGER_ADMIN_ADDR"},
	{Name: "escalation", AdminEnv: "ESCALATION_ADMIN_ADDR", KeyedIDs: true},
	{Name: "workspace", HTTPEnv: "WORKSPACE_HTTP_ADDR", AdminEnv: "WORKSPACE_ADMIN_ADDR"},
	{Name: "gateway", HTTPEnv: "LANTERN_HTTP_ADDR", AdminEnv: "GATEWAY_ADMIN_ADDR"},
}

// EventIDKeyed lists the services that need a key for their event ids.
func EventIDKeyed() []string {
	var names []string
	for _, s := range Services {
		if s.KeyedIDs {
			names = append(names, s.Name)
		}
	}
	return names
}

// Names lists the services' names in start order.
func Names() []string {
	names := make([]string, len(Services))
	for i, s := range Services {
		names[i] = s.Name
	}
	return names
}

// routes are the gateway's routes: path pattern to the service owning it.
var routes = []struct{ pattern, service string }{
	{"/v1/incidents/{id}/timeline", "ledger"},
	{"/v1/audit/", "ledger"},
	{"/v1/incidents", "intake"},
	{"/v1/incidents/", "intake"},
	{"/", "workspace"},
}

// Layout is where every listener of one run is.
type Layout struct {
	// HTTP and Admin map a service's name to its listen addresses.
	HTTP, Admin map[string]string
}

// PortsNeeded is how many free ports NewLayout takes.
func PortsNeeded() int {
	n := 0
	for _, s := range Services {
		n++
		if s.HTTPEnv != "" && s.Name != "gateway" {
			n++
		}
	}
	return n
}

// NewLayout places the gateway at public and every other listener on one
// of ports, which must hold PortsNeeded distinct free ports.
func NewLayout(public string, ports []int) Layout {
	l := Layout{HTTP: map[string]string{}, Admin: map[string]string{}}
	next := func() string {
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		ports = ports[1:]
		return addr
	}
	for _, s := range Services {
		l.Admin[s.Name] = next()
		switch {
		case s.Name == "gateway":
			l.HTTP[s.Name] = public
		case s.HTTPEnv != "":
			l.HTTP[s.Name] = next()
		}
	}
	return l
}

// Env is every placing variable and the gateway's routes, for every
// service: each reads only its own.
func (l Layout) Env() []string {
	var env []string
	for _, s := range Services {
		if s.HTTPEnv != "" {
			env = append(env, s.HTTPEnv+"="+l.HTTP[s.Name])
		}
		env = append(env, s.AdminEnv+"="+l.Admin[s.Name])
	}
	return append(env, "GATEWAY_ROUTES="+l.Routes())
}

// Routes is the gateway's GATEWAY_ROUTES for this layout.
func (l Layout) Routes() string {
	var rs []string
	for _, r := range routes {
		rs = append(rs, r.pattern+"=http://"+l.HTTP[r.service])
	}
	return strings.Join(rs, ";")
}

// WithHTTP is a copy of the layout with the named service's public
// listener at addr: a second gateway's routes to a second intake.
func (l Layout) WithHTTP(name, addr string) Layout {
	out := Layout{HTTP: maps.Clone(l.HTTP), Admin: maps.Clone(l.Admin)}
	out.HTTP[name] = addr
	return out
}

// ReadyURL is the readiness check of the named service.
func (l Layout) ReadyURL(name string) string { return "http://" + l.Admin[name] + "/readyz" }

// HealthURL is the liveness check of the named service.
func (l Layout) HealthURL(name string) string { return "http://" + l.Admin[name] + "/healthz" }

// ServiceEnv is what the named service alone is told and the others must
// not be: the ledger takes auditors' tokens from the workspace's
// development provider, reached through the gateway as a browser would (the
// workspace refuses a real issuer beside its development one).
func (l Layout) ServiceEnv(name string) []string {
	if name == "ledger" {
		return []string{"LANTERN_OIDC_ISSUER=http://" + l.HTTP["gateway"] + "/dev-idp"}
	}
	return nil
}
