package pglocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// hbaConf trusts loopback connections only. The server listens on
// 127.0.0.1 alone, so no other address can reach it anyway; the file says so
// explicitly rather than relying on initdb's defaults.
const hbaConf = `# Written by Lantern's pglocal: trust loopback connections only.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
host    all       all   ::1/128       trust
`

// prepareDataDir makes sure dir holds a cluster the server account owns,
// running initdb when it holds none. An empty dir asks for a throwaway one.
func (s *Server) prepareDataDir(ctx context.Context, dir string) error {
	if dir == "" {
		var err error
		if dir, err = s.makeThrowawayDir(); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolving postgres data directory: %w", err)
	}
	s.dataDir = abs
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("creating postgres data directory: %w", err)
	}
	if err := s.account.checkReachable(abs); err != nil {
		return err
	}
	if err := s.account.chownTree(abs); err != nil {
		return err
	}
	if err := os.Chmod(abs, 0o700); err != nil {
		return fmt.Errorf("restricting postgres data directory: %w", err)
	}
	if hasCluster(abs) {
		s.logf("pglocal: reusing the cluster in %s", abs)
		return nil
	}
	return s.initCluster(ctx)
}

// makeThrowawayDir creates a world-traversable parent under os.TempDir() so
// that an unprivileged server account can reach the data directory inside
// it; the data directory itself stays private to that account.
func (s *Server) makeThrowawayDir() (string, error) {
	parent, err := os.MkdirTemp("", "lantern-pg-")
	if err != nil {
		return "", fmt.Errorf("creating throwaway postgres directory: %w", err)
	}
	s.throwaway = parent
	if err := os.Chmod(parent, 0o755); err != nil {
		return "", fmt.Errorf("opening throwaway postgres directory: %w", err)
	}
	return filepath.Join(parent, "data"), nil
}

func hasCluster(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
	return err == nil
}

// initCluster runs initdb with data checksums, UTF8 and the C locale, then
// replaces the client authentication file.
func (s *Server) initCluster(ctx context.Context) error {
	if err := mustBeEmpty(s.dataDir); err != nil {
		return err
	}
	s.logf("pglocal: creating a cluster in %s", s.dataDir)
	cmd := exec.CommandContext(ctx, s.bins.initdb,
		"--pgdata="+s.dataDir,
		"--username=postgres",
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--data-checksums",
		"--no-instructions",
	)
	cmd.Dir = filepath.Dir(s.dataDir)
	cmd.Env = serverEnv()
	cmd.SysProcAttr = childAttrs(s.account)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("running initdb in %s: %w\n%s", s.dataDir, err, tail(string(out)))
	}
	return s.writeOwnedFile(filepath.Join(s.dataDir, "pg_hba.conf"), hbaConf)
}

// The server's copies of its TLS certificate and key, in the data
// directory: PostgreSQL refuses a key that its account does not own or
// that others can read.
const (
	tlsCertName = "lantern-server.crt"
	tlsKeyName  = "lantern-server.key"
)

func (s *Server) installTLS(t TLS) error {
	for _, f := range []struct{ from, to string }{{t.CertFile, tlsCertName}, {t.KeyFile, tlsKeyName}} {
		raw, err := os.ReadFile(f.from)
		if err != nil {
			return fmt.Errorf("reading the TLS files for postgres: %w", err)
		}
		if err := s.writeOwnedFile(filepath.Join(s.dataDir, f.to), string(raw)); err != nil {
			return err
		}
	}
	s.tls = true
	return nil
}

func mustBeEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading postgres data directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("preparing postgres data: %s is not empty and holds no cluster (no PG_VERSION)", dir)
	}
	return nil
}

func (s *Server) writeOwnedFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if s.account == nil {
		return nil
	}
	if err := os.Chown(path, int(s.account.uid), int(s.account.gid)); err != nil {
		return fmt.Errorf("giving %s to user %s: %w", path, s.account.name, err)
	}
	return nil
}

// serverEnv is the environment for initdb and postgres: this process's own,
// less the libpq and locale variables that would change how the cluster is
// made or which server a tool talks to.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "LC_") || name == "LANG" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// tail keeps the last lines of a log, which is where the reason for a
// failure is.
func tail(text string) string {
	const keep = 20
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}
	return strings.Join(lines, "\n")
}

// readTail returns the last lines of the file at path, or a note saying why
// it could not be read.
func readTail(path string) string {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "(no server log)"
	}
	if err != nil {
		return fmt.Sprintf("(reading server log: %v)", err)
	}
	const maxBytes = 8 << 10
	if len(raw) > maxBytes {
		raw = raw[len(raw)-maxBytes:]
	}
	return tail(string(raw))
}
