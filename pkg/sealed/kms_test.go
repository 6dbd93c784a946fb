package sealed_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"

	"github.com/lantern-safeguarding/lantern/pkg/clock"
	"github.com/lantern-safeguarding/lantern/pkg/sealed"
)

// localKMS is local-kms, a real implementation of the AWS KMS API with its
// own key store, served over HTTP in this process, the same request
// dispatch as its own server.
func localKMS(t *testing.T) *kms.Client {
	t.Helper()
	kmsConfigOnce.Do(func() { config.AWSRegion, config.AWSAccountId = "eu-west-2", "111122223333" })
	db := data.NewDatabase(filepath.Join(t.TempDir(), "kms"))
	t.Cleanup(db.Close)
	logger := logrus.New()
	logger.SetOutput(testWriter{t})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := strings.Split(r.Header.Get("X-Amz-Target"), ".")
		method := reflect.ValueOf(handler.NewRequestHandler(r, logger, db)).MethodByName(target[len(target)-1])
		if !method.IsValid() {
			http.Error(w, "unsupported", http.StatusNotImplemented)
			return
		}
		resp := method.Call(nil)[0].Interface().(handler.Response)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(resp.Code)
		fmt.Fprint(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return kms.New(kms.Options{
		Region:       "eu-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

var kmsConfigOnce sync.Once

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func createKMSKey(t *testing.T, client *kms.Client) string {
	t.Helper()
	out, err := client.CreateKey(t.Context(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	return *out.KeyMetadata.KeyId
}

func TestKMSKEKSealsAndRotatesThroughAKMSServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client := localKMS(t)
	first := sealed.NewKMSKEK(client, createKMSKey(t, client))
	second := sealed.NewKMSKEK(client, createKMSKey(t, client))

	wrapped, err := first.Wrap(ctx, []byte("0123456789abcdef0123456789abcdef"), []byte("inc-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Unwrap(ctx, wrapped, []byte("inc-2")); err == nil {
		t.Error("KMS unwrapped a key under another incident's context")
	}
	if _, err := second.Unwrap(ctx, wrapped, []byte("inc-1")); err == nil {
		t.Error("KMS unwrapped a key with another KMS key")
	}

	pool := newPool(t)
	clk := clock.NewFake(t0)
	s := sealed.New(pool, sealed.NewKeyring(first), clk)
	ct, err := s.Seal(ctx, "inc-1", "ppn", []byte("Canary Quillon"))
	if err != nil {
		t.Fatal(err)
	}
	rotating := sealed.New(pool, sealed.NewKeyring(second, first), clk)
	if n, err := rotating.Rewrap(ctx, nil); err != nil || n != 1 {
		t.Fatalf("Rewrap = %d, %v", n, err)
	}
	after := sealed.New(pool, sealed.NewKeyring(second), clk)
	if got, err := after.Open(ctx, "inc-1", "ppn", ct); err != nil || string(got) != "Canary Quillon" {
		t.Errorf("Open after rotation to a second KMS key = %q, %v", got, err)
	}
}
