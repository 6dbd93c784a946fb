package cluster

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

const (
	toxiproxyPackage = "github.com/Shopify/toxiproxy/v2/cmd/server"
	toxiproxyBinary  = "toxiproxy-server"
	// proxyProcess is the fault proxy's key among the cluster's processes.
	proxyProcess = "toxiproxy"
)

// Upstreams a service's links lead to.
const (
	UpstreamNATS     = "nats"
	UpstreamPostgres = "postgres"
)

// Link is one service's connection to the broker or to PostgreSQL,
// carried by its own Toxiproxy proxy.
type Link struct {
	Service, Upstream string
	Proxy             *toxiproxy.Proxy
}

// Name is the link's proxy name, "<service>-><upstream>".
func (l Link) Name() string { return linkName(l.Service, l.Upstream) }

func linkName(service, upstream string) string { return service + "->" + upstream }

// Proxies is the cluster's fault proxy: a Toxiproxy server run as its own
// process, with one proxy per service and upstream. Only the services go
// through it; the test's own connections (checker, observers) do not, so
// that a degraded network does not blind the check.
type Proxies struct {
	Client *toxiproxy.Client
	links  map[string]Link
	// upstream is the real address of each upstream.
	upstream map[string]string
}

// startProxies runs the fault proxy process with a proxy for every
// service's links.
func (c *Cluster) startProxies() {
	c.t.Helper()
	client := c.startToxiproxy()
	nats, err := hostPort(c.NATSURL)
	if err != nil {
		c.t.Fatal(err)
	}
	pg, err := hostPort(c.DatabaseURL)
	if err != nil {
		c.t.Fatal(err)
	}
	c.proxies = &Proxies{Client: client, links: map[string]Link{},
		upstream: map[string]string{UpstreamNATS: nats, UpstreamPostgres: pg}}
}

// startToxiproxy runs the fault proxy process and waits for its API.
func (c *Cluster) startToxiproxy() *toxiproxy.Client {
	c.t.Helper()
	port := FreePorts(c.t, 1)[0]
	// Toxiproxy logs every connection at info; only trouble matters here.
	c.startBinary(proxyProcess, toxiproxyBinary, []string{"-host", "127.0.0.1", "-port", fmt.Sprint(port)},
		[]string{"LOG_LEVEL=warn"})
	client := toxiproxy.NewClient(fmt.Sprintf("127.0.0.1:%d", port))
	c.WaitFor(30*time.Second, func() error { _, err := client.Proxies(); return err })
	return client
}

func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", raw, err)
	}
	return u.Host, nil
}

// Proxies returns the cluster's fault proxy, or nil when it runs without.
func (c *Cluster) Proxies() *Proxies { return c.proxies }

// linkEnv points a service at its own proxies, creating them on its first
// start. Only the addresses change: user names, passwords and credentials
// in the URLs pass through untouched, since Toxiproxy relays bytes.
func (c *Cluster) linkEnv(service string) []string {
	if c.proxies == nil {
		return nil
	}
	c.t.Helper()
	natsURL, err := withHost(c.NATSURL, c.link(service, UpstreamNATS).Proxy.Listen)
	if err != nil {
		c.t.Fatal(err)
	}
	env := []string{"NATS_URL=" + natsURL}
	for _, kv := range c.DBRoles.Env(service) {
		name, dbURL, _ := strings.Cut(kv, "=")
		proxied, err := withHost(dbURL, c.link(service, UpstreamPostgres).Proxy.Listen)
		if err != nil {
			c.t.Fatal(err)
		}
		env = append(env, name+"="+proxied)
	}
	return env
}

func (c *Cluster) link(service, upstream string) Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := linkName(service, upstream)
	if l, ok := c.proxies.links[name]; ok {
		return l
	}
	// A fixed port, so that a proxy disabled and enabled again listens
	// where the service expects it.
	listen := fmt.Sprintf("127.0.0.1:%d", FreePorts(c.t, 1)[0])
	p, err := c.proxies.Client.CreateProxy(name, listen, c.proxies.upstream[upstream])
	if err != nil {
		c.t.Fatalf("creating proxy %s: %v", name, err)
	}
	l := Link{Service: service, Upstream: upstream, Proxy: p}
	c.proxies.links[name] = l
	return l
}

func withHost(raw, host string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", raw, err)
	}
	u.Host = host
	return u.String(), nil
}

// Links returns the links to the given upstreams (all when none is
// named), in name order.
func (p *Proxies) Links(upstreams ...string) []Link {
	var out []Link
	for _, l := range p.links {
		if len(upstreams) == 0 || slices.Contains(upstreams, l.Upstream) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b Link) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Reset removes every toxic and enables every proxy.
func (p *Proxies) Reset() error {
	if err := p.Client.ResetState(); err != nil {
		return fmt.Errorf("resetting the fault proxy: %w", err)
	}
	return nil
}
