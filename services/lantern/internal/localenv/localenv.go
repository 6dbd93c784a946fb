// Package localenv keeps the connection settings of a local pipeline in
// .lantern/connection.json: `lantern run` (make run) writes them once its
// servers are up, and the other lantern commands, run from the project or
// below it, read them when neither a flag nor the environment names a
// server. Without it the CLI would fall back to a default address and may
// reach some other NATS server listening there.
package localenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateDirName is the folder make run keeps its state in, under the
// project root.
const StateDirName = ".lantern"

// FileName is the settings file inside the state folder.
const FileName = "connection.json"

// Settings are where a local pipeline's servers and ledger files are.
type Settings struct {
	DatabaseURL   string `json:"database_url"`
	NATSURL       string `json:"nats_url"`
	BaseURL       string `json:"base_url"`
	CheckpointDir string `json:"checkpoint_dir"`
	LedgerKeyFile string `json:"ledger_key_file"`
	// NATSCredsDir holds every NATS identity's credentials; NATSCA the
	// certificate authority of a TLS broker.
	NATSCredsDir string `json:"nats_creds_dir,omitempty"`
	NATSCA       string `json:"nats_ca,omitempty"`
}

// Write stores s in stateDir, readable by its owner only: the database
// address may carry a password.
func Write(stateDir string, s Settings) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(stateDir, FileName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Remove deletes the settings of a pipeline that has stopped, so that no
// command reaches for servers that are gone.
func Remove(stateDir string) error {
	err := os.Remove(filepath.Join(stateDir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Found are settings and the file they came from.
type Found struct {
	Settings
	Path string
}

// Find reads the settings from $LANTERN_STATE_DIR if set, else from the
// nearest .lantern folder at dir or above it. ok is false when there are
// none.
func Find(dir string) (f Found, ok bool, err error) {
	if d := os.Getenv("LANTERN_STATE_DIR"); d != "" {
		return read(filepath.Join(d, FileName))
	}
	for {
		f, ok, err := read(filepath.Join(dir, StateDirName, FileName))
		if ok || err != nil {
			return f, ok, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return Found{}, false, nil
		}
		dir = parent
	}
}

func read(path string) (Found, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Found{}, false, nil
	}
	if err != nil {
		return Found{}, false, err
	}
	f := Found{Path: path}
	if err := json.Unmarshal(data, &f.Settings); err != nil {
		return Found{}, false, fmt.Errorf("reading %s: %w (make run rewrites it)", path, err)
	}
	return f, true, nil
}

// Setting is one resolved value and where it came from, so that an error
// can say which server was reached and why that one.
type Setting struct {
	Value  string
	Source string
}

// Resolve picks a setting: the flag if it was given, else the environment
// variable, else the local pipeline's value.
func Resolve(flagName, flagValue string, flagSet bool, envName string, local func(Settings) string) (Setting, error) {
	if flagSet {
		return Setting{flagValue, "--" + flagName}, nil
	}
	if v := os.Getenv(envName); v != "" {
		return Setting{v, envName}, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return Setting{}, err
	}
	f, ok, err := Find(wd)
	if err != nil || !ok {
		return Setting{}, err
	}
	return Setting{local(f.Settings), f.Path}, nil
}
