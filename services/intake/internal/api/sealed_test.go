package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestTheStoredNoticeIsSealedAndStillServed(t *testing.T) {
	f := setup(t)
	id := f.post(t, sample(t)).body["incident_id"].(string)
	// The personal data is not in the row; the keys beside it are.
	var row string
	if err := f.pool.QueryRow(context.Background(),
		`SELECT row_to_json(i)::text FROM intake.incidents i WHERE incident_id = $1`, id).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Amy Doe", "Jane Doe", "9434765919", "hid upstairs"} {
		if strings.Contains(row, secret) {
			t.Errorf("intake.incidents holds %q in clear", secret)
		}
	}
	if !strings.Contains(row, `"force_code":"KENT"`) {
		t.Errorf("the row lost its clear identifiers: %s", row)
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/incidents/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+kentToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Incident struct {
			Children []struct {
				Name string `json:"name"`
			} `json:"children"`
		} `json:"incident"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Incident.Children) == 0 || got.Incident.Children[0].Name != "Amy Doe" {
		t.Errorf("GET the incident = %+v, %v; want it opened, child Amy Doe", got, err)
	}
}
