package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// sampleUsers are the development sign-ins, as the workspace wrote them.
type sampleUsers struct {
	Users []json.RawMessage `json:"users"`
	// table is the workspace's printout of the featured users.
	table string
}

func usersFile(o Options) string { return filepath.Join(o.StateDir, "dev-users.json") }

// generateUsers asks the workspace binary to make one sample user per role
// and organisation in the reference data, keeping the passwords of users it
// made before.
func generateUsers(ctx context.Context, o Options) (sampleUsers, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(o.BinDir, "workspace"), "dev-users",
		"--reference", o.ReferenceDir, "--out", usersFile(o), "--print")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return sampleUsers{}, fmt.Errorf("making the sample users: %v: %s", err, errOut.String())
	}
	data, err := os.ReadFile(usersFile(o))
	if err != nil {
		return sampleUsers{}, err
	}
	var users sampleUsers
	if err := json.Unmarshal(data, &users); err != nil {
		return sampleUsers{}, fmt.Errorf("reading %s: %w", usersFile(o), err)
	}
	users.table = out.String()
	return users, nil
}
