package pglocal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The server account is only used when the tests run as root, but the
// check that its data directory is reachable is plain permission
// arithmetic: an account with another uid and gid than the directories'
// owner exercises it as any user.
func TestCheckReachableExplainsAnUnreachableDirectory(t *testing.T) {
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	stranger := &account{name: "stranger", uid: uid + 1, gid: gid + 1}
	base := t.TempDir()
	private := filepath.Join(base, "private")
	open := filepath.Join(base, "open")
	for dir, mode := range map[string]os.FileMode{private: 0o700, open: 0o711} {
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	// Everything above base must be traversable for the open case.
	for dir := base; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if info, err := os.Stat(dir); err == nil && info.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(dir, info.Mode().Perm()|0o001); err != nil {
				t.Fatalf("making %s traversable: %v", dir, err)
			}
		}
	}

	err := stranger.checkReachable(filepath.Join(private, "pgdata"))
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), private) {
		t.Errorf("a root-only parent: err = %v, want one naming %s as what the server user cannot reach", err, private)
	}
	if err := stranger.checkReachable(filepath.Join(open, "pgdata")); err != nil {
		t.Errorf("a traversable parent: err = %v, want nil", err)
	}
	var self *account
	if err := self.checkReachable(filepath.Join(private, "pgdata")); err != nil {
		t.Errorf("running as the current user checks nothing, got %v", err)
	}
}
