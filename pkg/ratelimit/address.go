package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the addresses whose X-Forwarded-For Lantern believes: its
// own gateway, and any load balancer in front of it. A request from
// anywhere else is the client itself, whatever header it sends.
type Proxies []netip.Prefix

// DefaultProxies is the default of LANTERN_TRUSTED_PROXIES: loopback,
// where make run's gateway forwards from.
const DefaultProxies = "127.0.0.0/8,::1/128"

// ParseProxies reads comma-separated addresses and CIDR prefixes.
func ParseProxies(s string) (Proxies, error) {
	var out Proxies
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("LANTERN_TRUSTED_PROXIES: %q is not an address or prefix", item)
			}
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("LANTERN_TRUSTED_PROXIES: %q is not an address or prefix", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, prefix := range p {
		if prefix.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// ClientAddress names a request's client by its IP address: the peer's,
// or, when the peer is a trusted proxy, the nearest untrusted address in
// X-Forwarded-For, read from the right, since each proxy appends the
// address it saw and only the entries the trusted proxies added can be
// believed.
func (p Proxies) ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	client := peer.Unmap()
	if !p.trusted(client) {
		return client.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = hop.Unmap()
		if !p.trusted(client) {
			break
		}
	}
	return client.String()
}
