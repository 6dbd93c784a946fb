package pglocal

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged user the server runs as when this process is
// root. A nil *account means "run as the current user".
type account struct {
	name string
	uid  uint32
	gid  uint32
}

// serverAccount returns nil unless this process is root, in which case it
// returns the `postgres` user, or `nobody` when there is none: PostgreSQL
// exits at once if started as root.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		return accountFrom(u)
	}
	return nil, fmt.Errorf("choosing a user for postgres: running as root and neither %q nor %q exists", "postgres", "nobody")
}

func accountFrom(u *user.User) (*account, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("reading uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("reading gid of %s: %w", u.Username, err)
	}
	return &account{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// credential is what exec needs to start a process as this account. It
// drops every supplementary group of root as well.
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: []uint32{}}
}

// chownTree gives dir and everything under it to the account, so that a
// cluster made earlier by another user (or by root) can be opened.
func (a *account) chownTree(dir string) error {
	if a == nil {
		return nil
	}
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(a.uid), int(a.gid))
	})
	if err != nil {
		return fmt.Errorf("giving %s to user %s: %w", dir, a.name, err)
	}
	return nil
}

// checkReachable fails with a clear message when some directory above dir
// cannot be traversed by the account, which postgres would otherwise report
// as a bare "permission denied".
func (a *account) checkReachable(dir string) error {
	if a == nil {
		return nil
	}
	for parent := filepath.Dir(dir); ; parent = filepath.Dir(parent) {
		info, err := os.Stat(parent)
		if err != nil {
			return fmt.Errorf("checking %s: %w", parent, err)
		}
		if !a.canTraverse(info) {
			return fmt.Errorf("preparing postgres data: user %s cannot reach %s because %s is mode %v; "+
				"PostgreSQL will not run as root, so pick a data directory that %s can reach",
				a.name, dir, parent, info.Mode().Perm(), a.name)
		}
		if parent == filepath.Dir(parent) {
			return nil
		}
	}
}

func (a *account) canTraverse(info fs.FileInfo) bool {
	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := info.Mode().Perm()
	switch {
	case stat.Uid == a.uid:
		return perm&0o100 != 0
	case stat.Gid == a.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
