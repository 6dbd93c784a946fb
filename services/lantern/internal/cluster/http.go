package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// Response is a decoded answer from the cluster's HTTP API.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// SamplePPN returns the README's sample notice.
func SamplePPN(t interface{ Fatal(...any) }) []byte {
	b, err := os.ReadFile(filepath.Join(Root(), "docs", "sample-ppn.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Post submits a notice with the police token; header holds name, value
// pairs.
func (c *Cluster) Post(body []byte, header ...string) (Response, error) {
	req, err := http.NewRequest(http.MethodPost, c.BaseURL+"/v1/incidents", bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, PoliceToken, header)
}

// Get reads a path with the police token.
func (c *Cluster) Get(path string) (Response, error) { return c.GetAs(PoliceToken, path) }

// GetAs reads a path with another bearer token, such as a signed-in
// user's.
func (c *Cluster) GetAs(token, path string) (Response, error) {
	req, err := http.NewRequest(http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return Response{}, err
	}
	return c.do(req, token, nil)
}

var client = &http.Client{Timeout: 30 * time.Second}

func (c *Cluster) do(req *http.Request, token string, header []string) (Response, error) {
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header}
	_ = json.Unmarshal(raw, &r.Body)
	return r, nil
}

// WaitHealthy waits until every service this cluster started and has not
// stopped answers its readiness check.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	c.WaitFor(60*time.Second, func() error {
		for _, name := range topology.Names() {
			if !c.Started(name) || !c.Running(name) {
				continue
			}
			if err := c.Ready(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// Ready returns nil if the named service answers /readyz with 200, else
// an error carrying its reasons.
func (c *Cluster) Ready(name string) error {
	resp, err := client.Get(c.Layout.ReadyURL(name))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s is not ready (%d): %s", name, resp.StatusCode, body)
	}
	return nil
}

// Alive returns nil if the named service answers /healthz with 200.
func (c *Cluster) Alive(name string) error {
	resp, err := client.Get(c.Layout.HealthURL(name))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered /healthz with %d", name, resp.StatusCode)
	}
	return nil
}
