package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/lantern-safeguarding/lantern/services/delivery/internal/channel/webhook"
)

// The Standard Webhooks specification's own example: its secret, id,
// timestamp and body, and the signature its reference libraries compute.
func TestSignMatchesTheSpecificationsExample(t *testing.T) {
	t.Setenv("SPEC_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	secret, err := webhook.Secret("env:SPEC_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)
	got := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(webhook.HeaderTimestamp, "1614265330")
	h.Set(webhook.HeaderSignature, "v1,bm9ldmVu v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := webhook.Verify(secret, h, body, time.Unix(1614265330, 0), time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := webhook.Verify(secret, h, body, time.Unix(1614265330, 0).Add(10*time.Minute), time.Minute); err == nil {
		t.Error("Verify accepted a timestamp ten minutes old")
	}
	if err := webhook.Verify(secret, h, []byte(`{"test": 1}`), time.Unix(1614265330, 0), time.Minute); err == nil {
		t.Error("Verify accepted a changed body")
	}
}

func TestSecretIsReadByReferenceOnly(t *testing.T) {
	for _, ref := range []string{"", "plain-secret", "vault:x", "env:LANTERN_NO_SUCH_VARIABLE", "file:/nonexistent/secret"} {
		if _, err := webhook.Secret(ref); err == nil {
			t.Errorf("Secret(%q) gave a secret", ref)
		}
	}
}
