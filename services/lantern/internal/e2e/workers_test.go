package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/natsauth"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
	"github.com/lantern-safeguarding/lantern/services/ledger/auditlog"
)

// sampleUser is a development sign-in, as the workspace's users file has it.
type sampleUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

// worked counts what the people using the workspace did.
type worked struct{ triaged, acknowledged int }

// triageDecisions are cycled through, so that the rules that depend on the
// MASH's decision fire too.
var triageDecisions = []string{"early_help", "section_47_strategy_discussion", "no_further_action", "section_17"}

// workInboxes signs every sample user in through the development identity
// provider and does their work through the workspace API: MASH workers
// decide every second incident in their queue at its proposed rating, and
// every other recipient acknowledges two notices in three.
func workInboxes(t *testing.T, c *cluster.Cluster) worked {
	t.Helper()
	var w worked
	for _, u := range sampleUsers(t, c) {
		switch u.Role {
		case "mash_worker":
			w.triaged += triageQueue(t, c, signIn(t, c, u))
		case "mash_manager", "auditor", "administrator":
		default:
			w.acknowledged += acknowledgeInbox(t, c, signIn(t, c, u), func(i int) bool { return i%3 == 2 })
		}
	}
	return w
}

func sampleUsers(t *testing.T, c *cluster.Cluster) []sampleUser {
	t.Helper()
	raw, err := os.ReadFile(c.UsersFile())
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Users []sampleUser }
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Users
}

// sampleUserWhere is the first sample user that matches; the test fails,
// saying what it wanted of the user (want), when none does.
func sampleUserWhere(t *testing.T, c *cluster.Cluster, want string, match func(sampleUser) bool) sampleUser {
	t.Helper()
	for _, u := range sampleUsers(t, c) {
		if match(u) {
			return u
		}
	}
	t.Fatalf("no sample user %s", want)
	return sampleUser{}
}

// signIn returns an API access token for u, by the development provider's
// password grant.
func signIn(t *testing.T, c *cluster.Cluster, u sampleUser) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {"lantern-workspace"},
		"username": {u.Username}, "password": {u.Password}}
	resp, err := http.PostForm(c.BaseURL+"/dev-idp/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("signing in %s: status %d, %v", u.Username, resp.StatusCode, err)
	}
	return tok.AccessToken
}

func triageQueue(t *testing.T, c *cluster.Cluster, token string) int {
	t.Helper()
	var queue struct {
		Queue []struct {
			IncidentID string `json:"incident_id"`
			DefaultRAG string `json:"default_rag"`
		} `json:"queue"`
	}
	apiCall(t, c, token, http.MethodGet, "/mash/queue", nil, http.StatusOK, &queue)
	n := 0
	for i, item := range queue.Queue {
		if i%2 == 1 {
			continue
		}
		decision := map[string]string{"rag": item.DefaultRAG, "decision": triageDecisions[n%len(triageDecisions)]}
		apiCall(t, c, token, http.MethodPost, "/mash/incidents/"+item.IncidentID+"/triage", decision, http.StatusCreated, nil)
		n++
	}
	return n
}

// acknowledgeInbox acknowledges the notices in the signed-in user's inbox
// but those leave picks by their place in it, and returns how many it
// acknowledged.
func acknowledgeInbox(t *testing.T, c *cluster.Cluster, token string, leave func(i int) bool) int {
	t.Helper()
	var inbox struct {
		Notices []struct {
			NotificationID string `json:"notification_id"`
		} `json:"notices"`
	}
	apiCall(t, c, token, http.MethodGet, "/notices", nil, http.StatusOK, &inbox)
	n := 0
	for i, notice := range inbox.Notices {
		if leave(i) {
			continue
		}
		apiCall(t, c, token, http.MethodPost, "/notices/"+notice.NotificationID+"/acknowledge", nil, http.StatusCreated, nil)
		n++
	}
	return n
}

// apiCall makes one workspace API request and fails the test unless it
// gets the status wanted.
func apiCall(t *testing.T, c *cluster.Cluster, token, method, path string, body any, status int, out any) {
	t.Helper()
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, c.BaseURL+"/v1/workspace"+path, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer bytes.Buffer
	_, _ = answer.ReadFrom(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, answer.String())
	}
	if out != nil {
		if err := json.Unmarshal(answer.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// settle waits until the pipeline has nothing left to do: every consumer
// of the events stream has caught up, no service holds an event in its
// outbox, and the ledger's head has not moved for several checks in a row
// (the escalation service's scheduler ticks in between).
func settle(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	nc := c.ConnectNATS(natsauth.Provisioner)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	const quietChecks = 6
	var lastHead int64 = -1
	quiet := 0
	c.WaitFor(5*time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		head, err := busyness(ctx, c, js)
		if err != nil {
			quiet = 0
			return err
		}
		if head != lastHead {
			lastHead, quiet = head, 0
		}
		if quiet++; quiet < quietChecks {
			time.Sleep(250 * time.Millisecond)
			return fmt.Errorf("the ledger head has been at %d for %d checks", head, quiet)
		}
		return nil
	})
}

// busyness returns the ledger's head, or an error saying what is still
// being worked on.
func busyness(ctx context.Context, c *cluster.Cluster, js jetstream.JetStream) (int64, error) {
	stream, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		return 0, err
	}
	consumers := stream.ListConsumers(ctx)
	for info := range consumers.Info() {
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return 0, fmt.Errorf("consumer %s has %d pending and %d unacknowledged", info.Name, info.NumPending, info.NumAckPending)
		}
	}
	if err := consumers.Err(); err != nil {
		return 0, err
	}
	if n, err := unpublished(ctx, c); err != nil || n > 0 {
		return 0, errors.Join(err, fmt.Errorf("%d events wait in outboxes", n))
	}
	head, err := auditlog.ReadHead(ctx, c.Pool)
	return head.Seq, err
}

// unpublished counts the events every service's outbox still holds.
func unpublished(ctx context.Context, c *cluster.Cluster) (int, error) {
	rows, err := c.Pool.Query(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'`)
	if err != nil {
		return 0, err
	}
	var schemas []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return 0, err
		}
		schemas = append(schemas, s)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	for _, s := range schemas {
		var n int
		q := `SELECT count(*) FROM ` + quoteIdent(s) + `.outbox WHERE published_at IS NULL`
		if err := c.Pool.QueryRow(ctx, q).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
