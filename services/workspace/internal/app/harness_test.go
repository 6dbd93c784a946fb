package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/bus"
	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/cloudevent"
	"github.com/lantern-safeguarding/lantern/pkg/config"
	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/oidcauth"
	"github.com/lantern-safeguarding/lantern/pkg/outbox"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/natstest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/ledger/testkit/projectiontest"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/app"
	wsconfig "github.com/lantern-safeguarding/lantern/services/workspace/internal/config"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
	"github.com/lantern-safeguarding/lantern/services/workspace/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// referenceDir is the shipped sample reference data.
const referenceDir = "../../../../reference"

// start is the instant the tests' clock shows: a Saturday morning after
// the fixtures' Friday-night incidents.
var start = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

// migrate prepares a database as `make run` has it: the workspace's own
// schema, and the ledger's with the audit projections it keeps, which the
// auditor's pages read.
func migrate(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	if err := outbox.New(store.Schema).Migrate(ctx, pool); err != nil {
		return err
	}
	return projectiontest.MigrateTemplate(ctx, url)
}

// bundle is a running workspace with real PostgreSQL and JetStream.
type bundle struct {
	t     *testing.T
	url   string
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	clock *clock.Fake
	users devidp.UsersFile
	ws    *app.Workspace
	log   *zap.Logger
	// stop stops the consumer and the relay and waits for them.
	stop func()
	// sealer opens the personal fields the outbox keeps sealed.
	sealer *sealed.Sealer
}

// setup starts the workspace, its consumer and its relay, with the
// development identity provider and the shipped reference data's users.
func setup(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, nil)
}

// configure adjusts the workspace's configuration before it starts; it is
// given the workspace's public address, the sample users and the clock.
type configure func(cfg *wsconfig.Config, public string, users devidp.UsersFile, c *clock.Fake)

func setupWith(t *testing.T, adjust configure) *bundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dbURL := pgtest.NewDatabase(t, "workspace", migrate)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("opening pool: %v", err)
	}
	t.Cleanup(pool.Close)
	srv := natstest.RunServer(t)
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("opening jetstream: %v", err)
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatalf("declaring streams: %v", err)
	}
	usersFile := filepath.Join(t.TempDir(), "dev-users.json")
	users, err := devidp.GenerateUsersFile(referenceDir, usersFile)
	if err != nil {
		t.Fatalf("generating users: %v", err)
	}
	hs := httptest.NewUnstartedServer(nil)
	addr := hs.Listener.Addr().String()
	cfg := &wsconfig.Config{Common: config.CommonFor(dbURL, srv.URL()), AdminAddr: "127.0.0.1:0",
		Addr: addr, HTTPAddr: addr, Consumer: config.Consumer{AckWait: 5 * time.Second}, DevIdP: true, DevUsersFile: usersFile,
		Settings: oidcauth.Settings{OIDCClientID: "lantern-workspace", RoleClaim: "lantern_role"}, OrgClaim: "lantern_org",
		OrgNameClaim: "lantern_org_name", SessionTTL: 8 * time.Hour, SessionIdle: 30 * time.Minute,
		SignInRateLimit: 300, TrustedProxies: "127.0.0.0/8", PolicyFile: shippedPolicyFile, ReferenceDir: referenceDir,
		MatchKey: "workspace-test-match-key"}
	fake := clock.NewFake(start)
	if adjust != nil {
		adjust(cfg, "http://"+addr, users, fake)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	sealer := sealedtest.New(t, pool)
	ws, err := app.New(ctx, cfg, pool, sealer, fake, log, addr)
	if err != nil {
		t.Fatalf("building workspace: %v", err)
	}
	hs.Config.Handler = ws.Handler
	hs.Start()
	t.Cleanup(hs.Close)
	var wg sync.WaitGroup
	wg.Go(func() { _ = ws.Consume(ctx, js, 5*time.Second, log) })
	relay := ws.Outbox.NewRelay(pool, bus.NewPublisher(js), log)
	relay.Poll = 50 * time.Millisecond
	wg.Go(func() { _ = relay.Run(ctx) })
	stop := func() {
		cancel()
		wg.Wait()
	}
	t.Cleanup(stop)
	return &bundle{t: t, url: hs.URL, pool: pool, js: js, clock: fake, users: users, ws: ws, stop: stop, log: log, sealer: sealer}
}

// user returns the sample user with that username.
func (b *bundle) user(username string) devidp.User {
	b.t.Helper()
	for _, u := range b.users.Users {
		if u.Username == username {
			return u
		}
	}
	b.t.Fatalf("no sample user %s", username)
	return devidp.User{}
}

// publish sends an event to the stream as its producer would.
func (b *bundle) publish(spec cloudevent.Spec, subject string) {
	b.t.Helper()
	e, err := cloudevent.New(spec)
	if err != nil {
		b.t.Fatalf("building event: %v", err)
	}
	if _, err := bus.NewPublisher(b.js).Publish(context.Background(), e, subject); err != nil {
		b.t.Fatalf("publishing: %v", err)
	}
}

// deliver publishes a notice as the router requests it and the delivery
// service delivers it.
func (b *bundle) deliver(n events.NotificationRequestedData) {
	b.t.Helper()
	b.request(n)
	b.delivered(n)
}

// request publishes a notice as the router requests it.
func (b *bundle) request(n events.NotificationRequestedData) {
	b.t.Helper()
	subject, _ := events.Subject(events.NotificationRequested, n.Recipient.Kind)
	b.publish(cloudevent.Spec{ID: cloudevent.DeriveID(n.NotificationID, "requested"), Type: events.NotificationRequested,
		Source: events.SourceRouter, Subject: n.NotificationID, IncidentID: n.IncidentID, Actor: "service:router",
		Time: n.RequestedAt, Data: n}, subject)
}

// delivered publishes the delivery service's notification.delivered for
// a requested notice, a minute after its request.
func (b *bundle) delivered(n events.NotificationRequestedData) {
	b.t.Helper()
	subject, _ := events.Subject(events.NotificationDelivered, n.Recipient.Kind)
	b.publish(cloudevent.Spec{ID: cloudevent.DeriveID(n.NotificationID, "delivered"), Type: events.NotificationDelivered,
		Source: events.SourceDelivery, Subject: n.NotificationID, IncidentID: n.IncidentID, Actor: "service:delivery",
		Time: n.RequestedAt.Add(time.Minute), Data: events.NotificationDeliveredData{NotificationID: n.NotificationID,
			IncidentID: n.IncidentID, Recipient: n.Recipient, DeliveredAt: n.RequestedAt.Add(time.Minute),
			Channel: "inbox", DueAt: n.DueAt}}, subject)
}

// waitDelivered waits until the projection has every notice delivered.
func (b *bundle) waitDelivered(ids ...string) {
	b.t.Helper()
	natstest.CheckFor(b.t, 20*time.Second, 20*time.Millisecond, func() error {
		var n int
		err := b.pool.QueryRow(context.Background(), `SELECT count(*) FROM workspace.notices n
			JOIN workspace.deliveries d USING (notification_id) WHERE n.notification_id = ANY($1)`, ids).Scan(&n)
		if err != nil {
			return err
		}
		if n != len(ids) {
			return fmt.Errorf("%d of %d notices delivered", n, len(ids))
		}
		return nil
	})
}

// token signs a sample user in for the API with the development
// provider's password grant.
func (b *bundle) token(username string) string {
	b.t.Helper()
	access, _ := b.tokens(username)
	return access
}

// tokens returns the access token and the ID token the development
// provider's password grant gives a sample user.
func (b *bundle) tokens(username string) (access, id string) {
	b.t.Helper()
	access, id = b.passwordGrant(b.url+"/dev-idp", username)
	if id == "" {
		b.t.Fatalf("token response without an ID token")
	}
	return access, id
}

// passwordGrant asks the issuer at issuer for a sample user's tokens with
// the password grant, and fails the test unless it gives an access token.
func (b *bundle) passwordGrant(issuer, username string) (access, id string) {
	b.t.Helper()
	u := b.user(username)
	resp, err := http.PostForm(issuer+"/token", url.Values{"grant_type": {"password"},
		"client_id": {"lantern-workspace"}, "username": {u.Username}, "password": {u.Password}})
	if err != nil {
		b.t.Fatalf("requesting token: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		b.t.Fatalf("token response %d: %v", resp.StatusCode, err)
	}
	return body.AccessToken, body.IDToken
}

// response is what a request got back.
type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

// api sends an API request with a bearer token.
func (b *bundle) api(token, method, path, body string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatalf("building request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return b.do(http.DefaultClient, req)
}

func (b *bundle) do(client *http.Client, req *http.Request) response {
	b.t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("reading response: %v", err)
	}
	return response{status: resp.StatusCode, body: string(data), location: resp.Header.Get("Location"), header: resp.Header}
}

// browser is a cookie-keeping HTTP client signed in through the real
// OpenID Connect flow, as a person's browser would be.
type browser struct {
	b      *bundle
	client *http.Client
	csrf   string
}

// signIn goes through the sign-in flow: the workspace sends the browser
// to the provider, the provider's form signs the user in and sends the
// browser back with a code, and the workspace starts a session.
func (b *bundle) signIn(username string) *browser {
	b.t.Helper()
	jar, _ := cookiejar.New(nil)
	br := b.signInThrough(&http.Client{Jar: jar}, b.url+"/dev-idp", username)
	if br.csrf == "" {
		b.t.Fatalf("signed-in page has no CSRF token")
	}
	return br
}

// signInThrough signs username in with client through the issuer at
// issuer and returns the browser on the page the workspace answered with.
func (b *bundle) signInThrough(client *http.Client, issuer, username string) *browser {
	b.t.Helper()
	u := b.user(username)
	resp, err := client.Get(b.url + "/signin")
	if err != nil {
		b.t.Fatalf("starting sign-in: %v", err)
	}
	form := readForm(b.t, resp)
	form.Set("username", u.Username)
	form.Set("password", u.Password)
	resp, err = client.PostForm(issuer+"/authorize", form)
	if err != nil {
		b.t.Fatalf("signing in: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("sign-in ended with %d:\n%s", resp.StatusCode, page)
	}
	return &browser{b: b, client: client, csrf: hiddenValue(string(page), "csrf")}
}

// readForm reads the hidden fields of the provider's sign-in form.
func readForm(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in form: %d\n%s", resp.StatusCode, data)
	}
	v := url.Values{}
	for _, name := range []string{"client_id", "redirect_uri", "state", "nonce", "code_challenge",
		"code_challenge_method", "scope", "form_token"} {
		v.Set(name, hiddenValue(string(data), name))
	}
	return v
}

// hiddenValue finds <input type="hidden" name="NAME" value="..."> in a page.
func hiddenValue(page, name string) string {
	marker := `name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i+len(marker):]
	return htmlUnescape(rest[:strings.Index(rest, `"`)])
}

func htmlUnescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#61;", "=")
	return r.Replace(s)
}

// get fetches a page without following redirects.
func (br *browser) get(path string) response {
	br.b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, br.b.url+path, nil)
	return br.b.do(noRedirects(br.client), req)
}

// post submits a form with the session's CSRF token, without following
// the redirect that answers it.
func (br *browser) post(path string, form url.Values) response {
	br.b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", br.csrf)
	req, _ := http.NewRequest(http.MethodPost, br.b.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return br.b.do(noRedirects(br.client), req)
}

func noRedirects(c *http.Client) *http.Client {
	return &http.Client{Jar: c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// outboxEvents returns the events of a type in the workspace's outbox, in
// the order enqueued. A published row has lost its body (the relay drops
// it once the stream confirmed it), so its event is read from the stream.
func (b *bundle) outboxEvents(t events.Type) []map[string]any {
	b.t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT event_id, event FROM workspace.outbox ORDER BY seq`)
	if err != nil {
		b.t.Fatalf("reading outbox: %v", err)
	}
	type row struct {
		id   string
		body []byte
	}
	stored, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.body)
	})
	if err != nil {
		b.t.Fatalf("scanning outbox: %v", err)
	}
	var published map[string][]byte
	var out []map[string]any
	for _, r := range stored {
		raw := r.body
		if len(raw) == 0 {
			if published == nil {
				published = b.streamEvents()
			}
			raw = published[r.id]
		}
		e := b.opened(r.id, raw)
		if e["type"] == string(t) {
			out = append(out, e)
		}
	}
	return out
}

// opened decodes an outbox body with its sealed fields opened, as the
// relay publishes it.
func (b *bundle) opened(id string, raw []byte) map[string]any {
	b.t.Helper()
	ev := event.New()
	if err := ev.UnmarshalJSON(raw); err != nil {
		b.t.Fatalf("decoding outbox event %s: %v", id, err)
	}
	ev, err := b.sealer.OpenEvent(context.Background(), ev)
	if err != nil {
		b.t.Fatalf("opening outbox event %s: %v", id, err)
	}
	plain, err := ev.MarshalJSON()
	if err != nil {
		b.t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(plain, &e); err != nil {
		b.t.Fatalf("decoding outbox event %s: %v", id, err)
	}
	return e
}

// streamEvents is every event in the events stream, in structured JSON,
// by event id.
func (b *bundle) streamEvents() map[string][]byte {
	b.t.Helper()
	ctx := context.Background()
	s, err := b.js.Stream(ctx, bus.EventsStream)
	if err != nil {
		b.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	out := map[string][]byte{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue // a gap the stream's limits left
		}
		e, err := cloudevent.FromMsg(m.Header, m.Data)
		if err != nil {
			b.t.Fatalf("reading stream message %d: %v", seq, err)
		}
		body, err := e.MarshalJSON()
		if err != nil {
			b.t.Fatal(err)
		}
		out[e.ID()] = body
	}
	return out
}

func jetstreamFilter(subject string) jetstream.OrderedConsumerConfig {
	return jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}}
}

func wantCount(got, want int) error {
	if got != want {
		return fmt.Errorf("counted %d, want %d", got, want)
	}
	return nil
}

func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil)
	return jar
}

// issuerOf reads the issuer the workspace sends browsers to.
func issuerOf(t *testing.T, b *bundle) string {
	t.Helper()
	resp, err := noRedirects(&http.Client{Jar: newJar()}).Get(b.url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return u.Scheme + "://" + u.Host + devidp.Prefix
}

// tokenAt asks an issuer for an API token for a sample user.
func (b *bundle) tokenAt(issuer, username string) string {
	b.t.Helper()
	access, _ := b.passwordGrant(issuer, username)
	return access
}

// signInAt signs in through an issuer at its own address.
func (b *bundle) signInAt(issuer, username string) *browser {
	b.t.Helper()
	return b.signInThrough(&http.Client{Jar: newJar()}, issuer, username)
}
