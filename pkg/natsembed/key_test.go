package natsembed_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lantern-safeguarding/lantern/pkg/natsembed"
)

// storeHolds reports the files under dir that contain needle.
func storeHolds(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func publishCanary(t *testing.T, js jetstream.JetStream, canary []byte) {
	t.Helper()
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "CANARY", Subjects: []string{"canary"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(t.Context(), "canary", canary); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFileEncryptsTheStore(t *testing.T) {
	t.Parallel()
	canary := []byte("Canary Philomena Quatermass 9434765919")
	keyFile := filepath.Join(t.TempDir(), "js.key")
	if err := natsembed.EnsureKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	store := t.TempDir()
	srv := start(t, natsembed.Options{StoreDir: store, KeyFile: keyFile})
	publishCanary(t, jetStream(t, srv), canary)
	stop(srv)
	if hits := storeHolds(t, store, canary); len(hits) != 0 {
		t.Errorf("encrypted store files hold the canary: %v", hits)
	}

	// The same key reads the store back after a restart.
	again := start(t, natsembed.Options{StoreDir: store, KeyFile: keyFile})
	msg, err := jetStream(t, again).Stream(t.Context(), "CANARY")
	if err != nil {
		t.Fatal(err)
	}
	got, err := msg.GetMsg(t.Context(), 1)
	if err != nil || !bytes.Equal(got.Data, canary) {
		t.Errorf("message after restart = %v, %v; want the canary", got, err)
	}
}

func TestWithoutAKeyTheStoreIsReadable(t *testing.T) {
	t.Parallel()
	// The control for the test above: the search finds what is there.
	canary := []byte("Canary Philomena Quatermass 9434765919")
	store := t.TempDir()
	srv := start(t, natsembed.Options{StoreDir: store})
	publishCanary(t, jetStream(t, srv), canary)
	stop(srv)
	if hits := storeHolds(t, store, canary); len(hits) == 0 {
		t.Error("the search found no canary in an unencrypted store")
	}
}

func TestEnsureKeyFileKeepsItsKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k", "js.key")
	if err := natsembed.EnsureKeyFile(path); err != nil {
		t.Fatal(err)
	}
	first, err := natsembed.ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsembed.EnsureKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if again, err := natsembed.ReadKeyFile(path); err != nil || again != first {
		t.Errorf("key changed on the second EnsureKeyFile: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
}

func TestDeployConfigEncryptsTheStoreWithTheKeyFromTheEnvironment(t *testing.T) {
	t.Setenv("LANTERN_JS_STORE_KEY", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	opts, err := server.ProcessConfigFile("../../deploy/nats/lantern.conf")
	if err != nil {
		t.Fatal(err)
	}
	if opts.JetStreamCipher != server.AES || opts.JetStreamKey != os.Getenv("LANTERN_JS_STORE_KEY") {
		t.Errorf("deploy config: cipher %v, key set %v; want AES with the environment's key",
			opts.JetStreamCipher, opts.JetStreamKey != "")
	}
}
