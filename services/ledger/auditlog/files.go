package auditlog

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// checkpointSuffix ends every checkpoint file name; the name before it is
// the sequence number, zero-padded so that names sort in ledger order.
const checkpointSuffix = ".checkpoint"

// CheckpointFile is the name of the checkpoint for seq.
func CheckpointFile(seq int64) string { return fmt.Sprintf("%020d%s", seq, checkpointSuffix) }

// WriteCheckpoint stores signed checkpoint contents in dir, creating dir
// if needed. The file is written under a temporary name, synced and then
// renamed, so that a crash never leaves half a checkpoint.
func WriteCheckpoint(dir string, seq int64, signed []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating checkpoint folder: %w", err)
	}
	path := filepath.Join(dir, CheckpointFile(seq))
	if err := writeFileAtomic(path, signed, 0o644); err != nil {
		return "", fmt.Errorf("writing checkpoint %d: %w", seq, err)
	}
	return path, nil
}

// FileCheckpoint is a verified checkpoint and the file it came from.
type FileCheckpoint struct {
	*Checkpoint
	Path string
}

// ReadCheckpoints reads and verifies every checkpoint in dir, oldest first.
// A missing folder holds none. Any file that fails to verify is an error
// naming it: a forged or damaged checkpoint must not be skipped quietly.
func ReadCheckpoints(dir string, pub ed25519.PublicKey) ([]FileCheckpoint, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+checkpointSuffix))
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	sort.Strings(paths)
	var out []FileCheckpoint
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading checkpoint: %w", err)
		}
		c, err := ParseCheckpoint(data, pub)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", p, err)
		}
		out = append(out, FileCheckpoint{Checkpoint: c, Path: p})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := writeAndSync(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeAndSync writes data, flushes it to disk and closes f.
func writeAndSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
