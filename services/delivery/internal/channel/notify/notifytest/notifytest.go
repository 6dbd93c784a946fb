// Package notifytest is a local GOV.UK Notify for tests: the documented
// endpoints Lantern uses (POST /v2/notifications/email and /sms,
// GET /v2/notifications/{id}) behind Notify's authentication, which
// refuses a token that is not HS256 under the key's secret, whose iss is
// not the service id, or whose iat is more than 30 seconds from now.
package notifytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// Sent is one notification the server accepted.
type Sent struct {
	ID              string
	Kind            string // email or sms
	To              string
	TemplateID      string
	Reference       string
	Personalisation map[string]string
}

// Server is a running local Notify.
type Server struct {
	*httptest.Server
	// ServiceID and Secret make the one API key it accepts.
	ServiceID, Secret string
	now               func() time.Time
	mu                sync.Mutex
	sent              []Sent
	status            map[string]string
	refused           int
	// next is the status every new notification starts with.
	next string
}

// Start runs a local Notify until the test ends; now is its clock for
// checking iat.
func Start(t testing.TB, now func() time.Time) *Server {
	s := &Server{ServiceID: uuid.NewString(), Secret: uuid.NewString(), now: now, status: map[string]string{}, next: "delivered"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/notifications/email", s.authed(s.create("email", "email_address")))
	mux.HandleFunc("POST /v2/notifications/sms", s.authed(s.create("sms", "phone_number")))
	mux.HandleFunc("GET /v2/notifications/{id}", s.authed(s.get))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// APIKey is the key the server accepts, in Notify's format.
func (s *Server) APIKey() string { return "lantern_test-" + s.ServiceID + "-" + s.Secret }

// NewStatus sets the status new notifications start with, such as
// "sending" or "permanent-failure".
func (s *Server) NewStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = status
}

// SetStatus sets one notification's status, as Notify's providers report.
func (s *Server) SetStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[id] = status
}

// Sent returns every notification accepted.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Refused counts requests refused for authentication.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if refusal := s.checkToken(r.Header.Get("Authorization")); refusal != "" {
			s.mu.Lock()
			s.refused++
			s.mu.Unlock()
			writeError(w, http.StatusForbidden, "AuthError", refusal)
			return
		}
		h(w, r)
	}
}

// checkToken returns Notify's message for a token it refuses, or "".
func (s *Server) checkToken(header string) string {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return "Unauthorized: authentication token must be provided"
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return "Invalid token: not a HS256 JWT"
	}
	var c jwt.Claims
	if err := tok.Claims([]byte(s.Secret), &c); err != nil {
		return "Invalid token: signature, api token not found"
	}
	if c.Issuer != s.ServiceID {
		return "Invalid token: service not found"
	}
	if c.IssuedAt == nil {
		return "Invalid token: iat field not provided"
	}
	if d := s.now().Sub(c.IssuedAt.Time()); d > 30*time.Second || d < -30*time.Second {
		return "Error: Your system clock must be accurate to within 30 seconds"
	}
	return ""
}

func (s *Server) create(kind, addressField string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequestError", "invalid JSON")
			return
		}
		sent := Sent{ID: uuid.NewString(), Kind: kind, Personalisation: map[string]string{}}
		sent.To, _ = body[addressField].(string)
		sent.TemplateID, _ = body["template_id"].(string)
		sent.Reference, _ = body["reference"].(string)
		if p, ok := body["personalisation"].(map[string]any); ok {
			for k, v := range p {
				sent.Personalisation[k] = fmt.Sprint(v)
			}
		}
		if sent.To == "" || uuid.Validate(sent.TemplateID) != nil {
			writeError(w, http.StatusBadRequest, "ValidationError", addressField+" and template_id are required")
			return
		}
		s.mu.Lock()
		s.sent = append(s.sent, sent)
		s.status[sent.ID] = s.next
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": sent.ID, "reference": sent.Reference,
			"uri": s.URL + "/v2/notifications/" + sent.ID, "template": map[string]any{"id": sent.TemplateID, "version": 1}})
	}
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	status, ok := s.status[id]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "NoResultFound", "No result found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "status": status})
}

func writeError(w http.ResponseWriter, status int, name, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status_code": status,
		"errors": []map[string]string{{"error": name, "message": message}}})
}
