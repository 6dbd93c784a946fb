package webhooktest_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/webhooktest"
)

// TestPartnerAnswersInTurnAndKeepsEveryRequest posts four times to a
// partner scripted 500, 200: the answers are 500, 200, 200, 200 and the
// partner holds the four bodies and headers in order.
func TestPartnerAnswersInTurnAndKeepsEveryRequest(t *testing.T) {
	p := &webhooktest.Partner{Statuses: []int{500, 200}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	var got []int
	for _, body := range []string{"a", "b", "c", "d"} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Webhook-Id", "msg_"+body)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if want := []int{500, 200, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	reqs := p.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests kept, want 4", len(reqs))
	}
	for i, body := range []string{"a", "b", "c", "d"} {
		if string(reqs[i].Body) != body || reqs[i].Header.Get("Webhook-Id") != "msg_"+body {
			t.Errorf("request %d: body %q, webhook-id %q; want %q, msg_%s", i, reqs[i].Body, reqs[i].Header.Get("Webhook-Id"), body, body)
		}
	}
}
