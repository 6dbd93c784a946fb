package pglocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// debianRoot is where Debian and Ubuntu install each PostgreSQL major
// version side by side.
const debianRoot = "/usr/lib/postgresql"

// binaries are the absolute paths of the programs pglocal runs.
type binaries struct {
	initdb   string
	postgres string
}

// findBinaries picks the PostgreSQL installation to run. An explicit binDir
// wins. Otherwise a data directory that already holds a cluster prefers the
// installation of the same major version, because a server cannot open
// another version's cluster; then initdb on PATH; then the newest version
// under /usr/lib/postgresql.
func findBinaries(binDir, dataDir string) (binaries, error) {
	if binDir != "" {
		return binariesIn(binDir)
	}
	var tried []string
	for _, dir := range candidateDirs(dataDir) {
		bins, err := binariesIn(dir)
		if err == nil {
			return bins, nil
		}
		tried = append(tried, dir)
	}
	return binaries{}, fmt.Errorf("finding PostgreSQL binaries: no initdb and postgres on PATH or in %s (looked in %s)",
		filepath.Join(debianRoot, "*", "bin"), strings.Join(tried, ", "))
}

func candidateDirs(dataDir string) []string {
	var dirs []string
	if major := clusterMajorVersion(dataDir); major != "" {
		dirs = append(dirs, filepath.Join(debianRoot, major, "bin"))
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(initdb); err == nil {
			initdb = resolved
		}
		dirs = append(dirs, filepath.Dir(initdb))
	}
	return append(dirs, versionedDirsNewestFirst()...)
}

// clusterMajorVersion reads PG_VERSION from an existing cluster, or returns
// "" when dataDir holds none.
func clusterMajorVersion(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	raw, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

func versionedDirsNewestFirst() []string {
	entries, err := os.ReadDir(debianRoot)
	if err != nil {
		return nil
	}
	type versioned struct {
		version float64
		dir     string
	}
	var found []versioned
	for _, e := range entries {
		v, err := strconv.ParseFloat(e.Name(), 64)
		if err != nil {
			continue
		}
		found = append(found, versioned{v, filepath.Join(debianRoot, e.Name(), "bin")})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].version > found[j].version })
	dirs := make([]string, len(found))
	for i, f := range found {
		dirs[i] = f.dir
	}
	return dirs
}

func binariesIn(dir string) (binaries, error) {
	bins := binaries{
		initdb:   filepath.Join(dir, "initdb"),
		postgres: filepath.Join(dir, "postgres"),
	}
	for _, path := range []string{bins.initdb, bins.postgres} {
		info, err := os.Stat(path)
		if err != nil {
			return binaries{}, fmt.Errorf("finding PostgreSQL binaries: %w", err)
		}
		if info.Mode()&0o111 == 0 {
			return binaries{}, errors.New("finding PostgreSQL binaries: " + path + " is not executable")
		}
	}
	return bins, nil
}
