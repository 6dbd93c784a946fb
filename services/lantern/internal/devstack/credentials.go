package devstack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lantern-safeguarding/lantern/services/lantern/internal/topology"
)

// Credentials are the development sign-ins `make run` writes to
// .lantern/dev-credentials.json. They are generated on first run and kept,
// so scripts written against one run keep working on the next.
type Credentials struct {
	BaseURL           string `json:"base_url"`
	PoliceIntakeToken string `json:"police_intake_token"`
	PoliceForce       string `json:"police_force"`
	Note              string `json:"note"`
	// Users are the sample sign-ins of the development identity provider,
	// one per role and organisation in the reference data.
	Users []json.RawMessage `json:"users"`
	// MatchKey keys the hashes the router uses to recognise the same
	// people across incidents; it must stay the same between runs.
	MatchKey string `json:"match_key"`
	// EventIDKeys key each service's derived event ids (by service
	// name); they must stay the same between runs, so that an event
	// redelivered after a restart keeps its id.
	EventIDKeys map[string]string `json:"event_id_keys"`
	// NATSObserver is the broker's read-only identity for tools and
	// auditors (contract section 6): it reads sg.> and changes nothing.
	NATSObserver *NATSIdentity `json:"nats_observer,omitempty"`
}

// NATSIdentity is where a NATS client connects and the credentials file
// it connects with.
type NATSIdentity struct {
	URL       string `json:"url"`
	CredsFile string `json:"creds_file"`
	// InboxPrefix is the only inbox prefix the identity may subscribe
	// under (nats --inbox-prefix), for JetStream requests.
	InboxPrefix string `json:"inbox_prefix"`
	// CAFile is the authority of a TLS broker's certificate.
	CAFile string `json:"ca_file,omitempty"`
}

func loadOrCreateCredentials(path, baseURL string, users []json.RawMessage, observer *NATSIdentity) (Credentials, error) {
	var c Credentials
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &c); err != nil {
			return Credentials{}, fmt.Errorf("reading %s: %w (delete it to regenerate)", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		c.PoliceIntakeToken, err = randomToken()
		if err != nil {
			return Credentials{}, err
		}
	default:
		return Credentials{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if c.MatchKey == "" {
		if c.MatchKey, err = randomToken(); err != nil {
			return Credentials{}, err
		}
	}
	if err := c.ensureEventIDKeys(); err != nil {
		return Credentials{}, err
	}
	c.BaseURL = baseURL
	c.Users = users
	c.NATSObserver = observer
	c.PoliceForce = "*"
	c.Note = "Development credentials for a local Lantern. The police token may submit for any force."
	return c, writeCredentials(path, c)
}

// ensureEventIDKeys gives every service that derives event ids a key of
// its own, keeping those already made.
func (c *Credentials) ensureEventIDKeys() error {
	if c.EventIDKeys == nil {
		c.EventIDKeys = map[string]string{}
	}
	for _, name := range topology.EventIDKeyed() {
		if c.EventIDKeys[name] != "" {
			continue
		}
		key, err := randomToken()
		if err != nil {
			return err
		}
		c.EventIDKeys[name] = key
	}
	return nil
}

func writeCredentials(path string, c Credentials) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return "dev-police-" + base64.RawURLEncoding.EncodeToString(b), nil
}
