package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/pgdb"
	"github.com/lantern-safeguarding/lantern/pkg/policeauth"
	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/ratelimit"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
	"github.com/lantern-safeguarding/lantern/pkg/testkit/sealedtest"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/api"
	"github.com/lantern-safeguarding/lantern/services/intake/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	kentToken = "kent-token"
	metToken  = "met-token"
)

type knownLAs map[string]bool

func (k knownLAs) KnownLocalAuthority(code string) bool { return k[code] }

var migrated = pgtest.WithPool(func(ctx context.Context, pool *pgxpool.Pool) error { return store.New(pool, nil).Migrate(ctx) })

type fixture struct {
	srv  *httptest.Server
	pool *pgxpool.Pool
}

func newAPI(t *testing.T, pool *pgxpool.Pool) *api.API {
	return newAPIWith(t, pool, sealedtest.New(t, pool))
}

func newAPIWith(t *testing.T, pool *pgxpool.Pool, sealer *sealed.Sealer) *api.API {
	return &api.API{
		Incidents: store.New(pool, sealer),
		Reference: func() ppn.Reference { return knownLAs{"E06000035": true} },
		Tokens:    policeauth.Tokens{policeauth.Hash(kentToken): "KENT", policeauth.Hash(metToken): "MET"},
		Clock:     clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)), StoreTimeout: 2 * time.Second,
		Log: zaptest.NewLogger(t),
	}
}

func setup(t *testing.T) fixture { return setupWith(t, nil) }

// setupWith serves an API that adjust may change first.
func setupWith(t *testing.T, adjust func(*api.API)) fixture {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), pgtest.NewDatabase(t, "intake", migrated))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	a := newAPI(t, pool)
	if adjust != nil {
		adjust(a)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return fixture{srv: srv, pool: pool}
}

func sample(t *testing.T) []byte {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "docs", "sample-ppn.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type result struct {
	status int
	ctype  string
	header http.Header
	body   map[string]any
}

func (f fixture) post(t *testing.T, body []byte, header ...string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/incidents", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+kentToken)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return result{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), header: resp.Header, body: m}
}

func (f fixture) rows(t *testing.T) (incidents, events int) {
	t.Helper()
	ctx := context.Background()
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM intake.incidents`).Scan(&incidents); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM intake.outbox`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	return incidents, events
}

func pointers(body map[string]any) []string {
	var out []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["pointer"].(string))
	}
	return out
}

// TestBadInputsChangeNothing covers the intake's share of the bad inputs:
// each gets a 4xx problem naming the field and stores nothing.
func TestBadInputsChangeNothing(t *testing.T) {
	f := setup(t)
	good := sample(t)
	cases := []struct {
		name        string
		body        []byte
		header      []string
		wantStatus  int
		wantPointer string
	}{
		{"no token", good, []string{"Authorization", ""}, 401, ""},
		{"wrong token", good, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"another force's token", good, []string{"Authorization", "Bearer " + metToken}, 403, "/force_code"},
		{"wrong content type", good, []string{"Content-Type", "text/plain"}, 415, "header:Content-Type"},
		{"latin-1 charset", good, []string{"Content-Type", "application/json; charset=latin1"}, 415, "header:Content-Type"},
		{"gzip encoded", good, []string{"Content-Encoding", "gzip"}, 415, "header:Content-Type"},
		{"one byte over the limit", append(bytes.Repeat([]byte(" "), api.MaxBody), good...), nil, 413, ""},
		{"malformed json", []byte(`{"force_code":`), nil, 400, ""},
		{"trailing data", append(append([]byte{}, good...), []byte(` {}`)...), nil, 400, ""},
		{"duplicate key", bytes.Replace(good, []byte(`"force_code": "KENT",`), []byte(`"force_code": "KENT", "force_code": "MET",`), 1), nil, 400, "/force_code"},
		{"unknown field", bytes.Replace(good, []byte(`"force_code"`), []byte(`"colour": "red", "force_code"`), 1), nil, 400, "/colour"},
		{"NUL in a name", bytes.Replace(good, []byte(`Amy Doe`), []byte(`Amy\u0000Doe`), 1), nil, 400, ""},
		{"date of birth after the incident", bytes.Replace(good, []byte(`"2019-05-01"`), []byte(`"2026-11-22"`), 1), nil, 422, "/children/0/date_of_birth"},
		{"unknown local authority", bytes.Replace(good, []byte(`E06000035`), []byte(`E06000999`), 1), nil, 422, "/local_authority_code"},
		{"impossible date", bytes.Replace(good, []byte(`"2019-05-01"`), []byte(`"2019-02-30"`), 1), nil, 422, "/children/0/date_of_birth"},
		{"bad idempotency key", good, []string{"Idempotency-Key", "has space"}, 400, "header:Idempotency-Key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.post(t, c.body, c.header...)
			if res.status != c.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", res.status, c.wantStatus, res.body)
			}
			if res.ctype != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", res.ctype)
			}
			if c.wantPointer != "" && !strings.Contains(strings.Join(pointers(res.body), " "), c.wantPointer) {
				t.Errorf("pointers %v do not name %s", pointers(res.body), c.wantPointer)
			}
		})
	}
	if incidents, events := f.rows(t); incidents != 0 || events != 0 {
		t.Errorf("bad inputs stored %d incidents and %d events", incidents, events)
	}
}

func TestAcceptRepeatAndConflict(t *testing.T) {
	f := setup(t)
	body := sample(t)
	first := f.post(t, body, "Idempotency-Key", "k-1")
	if first.status != http.StatusAccepted {
		t.Fatalf("first = %d %v", first.status, first.body)
	}
	repeat := f.post(t, body, "Idempotency-Key", "k-1")
	if repeat.status != http.StatusOK || repeat.body["incident_id"] != first.body["incident_id"] {
		t.Errorf("repeat = %d %v", repeat.status, repeat.body)
	}
	other := bytes.Replace(body, []byte("KNT-26-112233"), []byte("KNT-26-999999"), 1)
	if reused := f.post(t, other, "Idempotency-Key", "k-1"); reused.status != http.StatusConflict {
		t.Errorf("key reused for another notice = %d, want 409", reused.status)
	}
	changed := bytes.Replace(body, []byte("family home"), []byte("a flat"), 1)
	if conflict := f.post(t, changed); conflict.status != http.StatusConflict {
		t.Errorf("changed content under the same reference = %d, want 409", conflict.status)
	}
	if incidents, events := f.rows(t); incidents != 1 || events != 1 {
		t.Errorf("stored %d incidents and %d events, want 1 and 1", incidents, events)
	}
}

// TestIdempotencyKeyIsPerForce sends the same Idempotency-Key from two
// forces: each gets its own incident, and each force's repeat still finds
// its own.
func TestIdempotencyKeyIsPerForce(t *testing.T) {
	f := setup(t)
	kent := sample(t)
	met := bytes.Replace(bytes.Replace(kent, []byte(`"KENT"`), []byte(`"MET"`), 1), []byte("KNT-26-112233"), []byte("MET-26-112233"), 1)
	first := f.post(t, kent, "Idempotency-Key", "shared-key")
	second := f.post(t, met, "Idempotency-Key", "shared-key", "Authorization", "Bearer "+metToken)
	if first.status != http.StatusAccepted || second.status != http.StatusAccepted {
		t.Fatalf("Kent %d %v, the Met %d %v; want both 202", first.status, first.body, second.status, second.body)
	}
	if first.body["incident_id"] == second.body["incident_id"] {
		t.Error("two forces' notices under one key became one incident")
	}
	again := f.post(t, met, "Idempotency-Key", "shared-key", "Authorization", "Bearer "+metToken)
	if again.status != http.StatusOK || again.body["incident_id"] != second.body["incident_id"] {
		t.Errorf("the Met's repeat = %d %v, want 200 with its own incident", again.status, again.body)
	}
	other := bytes.Replace(met, []byte("MET-26-112233"), []byte("MET-26-999999"), 1)
	if reused := f.post(t, other, "Idempotency-Key", "shared-key", "Authorization", "Bearer "+metToken); reused.status != http.StatusConflict {
		t.Errorf("the Met reusing its key for another notice = %d, want 409", reused.status)
	}
	if incidents, events := f.rows(t); incidents != 2 || events != 2 {
		t.Errorf("stored %d incidents and %d events, want 2 and 2", incidents, events)
	}
}

func TestConcurrentDuplicatesCreateOneIncident(t *testing.T) {
	f := setup(t)
	body := sample(t)
	results := make(chan result, 8)
	for range 8 {
		go func() { results <- f.post(t, body) }()
	}
	ids := map[any]bool{}
	accepted := 0
	for range 8 {
		r := <-results
		if r.status == http.StatusAccepted {
			accepted++
		} else if r.status != http.StatusOK {
			t.Errorf("status %d %v", r.status, r.body)
		}
		ids[r.body["incident_id"]] = true
	}
	if accepted != 1 || len(ids) != 1 {
		t.Errorf("accepted %d times with %d distinct ids; want exactly one incident", accepted, len(ids))
	}
}

func TestUnreachableDatabaseGives503(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig("postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	srv := httptest.NewServer(newAPIWith(t, pool, sealedtest.Unmigrated(t, pool)).Handler())
	defer srv.Close()
	res := fixture{srv: srv}.post(t, sample(t))
	if res.status != http.StatusServiceUnavailable || res.ctype != "application/problem+json" {
		t.Errorf("status = %d %q, want 503 problem", res.status, res.ctype)
	}
}

func TestGetIncidentIsLimitedToTheForce(t *testing.T) {
	f := setup(t)
	id := f.post(t, sample(t)).body["incident_id"].(string)
	get := func(token, path string) int {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var before int
	_ = f.pool.QueryRow(context.Background(), `SELECT count(*) FROM intake.outbox WHERE subject = 'sg.access.recorded'`).Scan(&before)
	cases := []struct {
		token, path string
		want        int
	}{
		{kentToken, "/v1/incidents/" + id, 200},
		{metToken, "/v1/incidents/" + id, 404},
		{"nope", "/v1/incidents/" + id, 401},
		{kentToken, "/v1/incidents/not-a-uuid", 404},
		{kentToken, "/v1/incidents/0193a3c4-0000-7000-8000-000000000001", 404},
	}
	for _, c := range cases {
		if got := get(c.token, c.path); got != c.want {
			t.Errorf("GET %s with %s = %d, want %d", c.path, c.token, got, c.want)
		}
	}
	// Every authenticated attempt, allowed or refused, is recorded once.
	var recorded, refused int
	_ = f.pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE convert_from(event, 'UTF8') LIKE '%"outcome":"refused"%')
		FROM intake.outbox WHERE subject = 'sg.access.recorded'`).Scan(&recorded, &refused)
	if recorded-before != 4 || refused != 3 {
		t.Errorf("access events = %d (refused %d), want 4 (refused 3)", recorded-before, refused)
	}
}

// TestRateLimits runs the intake API with small limits: a credential over
// its limit, and an address sending bad credentials over its own, are
// answered 429 with Retry-After and nothing is stored, while another force
// goes on; after Retry-After the credential is served again.
func TestRateLimits(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	f := setupWith(t, func(a *api.API) {
		proxies, _ := ratelimit.ParseProxies(ratelimit.DefaultProxies)
		a.Limits = api.Limits{PerCredential: ratelimit.New(3, c), Unauthenticated: ratelimit.New(2, c), Proxies: proxies}
	})
	body := sample(t)
	for i := range 3 {
		if r := f.post(t, body); r.status != http.StatusAccepted && r.status != http.StatusOK {
			t.Fatalf("request %d: %d %v", i+1, r.status, r.body)
		}
	}
	other := bytes.Replace(body, []byte("KNT-26-112233"), []byte("KNT-26-777777"), 1)
	over := f.post(t, other)
	if over.status != http.StatusTooManyRequests || over.ctype != "application/problem+json" || over.header.Get("Retry-After") != "20" {
		t.Fatalf("4th request: %d %s Retry-After %q", over.status, over.ctype, over.header.Get("Retry-After"))
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/incidents/0190d3c4-8f1e-7cc2-9d3a-4b8f2e1a7c55", nil)
	req.Header.Set("Authorization", "Bearer "+kentToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a read over the limit: %d", resp.StatusCode)
	}
	met := bytes.Replace(bytes.Replace(body, []byte(`"KENT"`), []byte(`"MET"`), 1), []byte("KNT-26-112233"), []byte("MET-26-1"), 1)
	if r := f.post(t, met, "Authorization", "Bearer "+metToken); r.status != http.StatusAccepted {
		t.Errorf("another force while Kent is limited: %d %v", r.status, r.body)
	}
	for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
		if r := f.post(t, body, "Authorization", "Bearer guessed-"+strconv.Itoa(i)); r.status != want {
			t.Errorf("bad credential %d: %d, want %d", i+1, r.status, want)
		}
	}
	if incidents, _ := f.rows(t); incidents != 2 {
		t.Errorf("%d incidents stored, want 2: a refused request stores nothing", incidents)
	}
	c.Advance(20 * time.Second)
	if r := f.post(t, other); r.status != http.StatusAccepted {
		t.Errorf("after Retry-After: %d %v", r.status, r.body)
	}
}
