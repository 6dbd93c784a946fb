package auditlog

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Origin names the ledger a checkpoint belongs to.
const Origin = "lantern-ledger"

// checkpointHeader opens every checkpoint, so that a file of another kind
// is never mistaken for one.
const checkpointHeader = "lantern ledger checkpoint v1"

// Checkpoint is a signed statement that the ledger held Seq entries, the
// last with hash Hash, at Time, together with the hash of every entry from
// First to Seq.
type Checkpoint struct {
	Origin string
	Seq    int64
	Hash   []byte
	Time   time.Time
	// First is the first sequence number listed in Hashes; Hashes[i] is
	// the hash of entry First+i, and the last of them is Hash.
	First  int64
	Hashes [][]byte
	// KeyID names the key that signed it (set when signed or parsed).
	KeyID string
}

// ErrBadCheckpoint marks a checkpoint that is malformed or whose signature
// does not verify.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// KeyID is a short name for a public key: the first 8 bytes of its SHA-256,
// in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// body is the signed text: one field per line, then one hash per line.
func (c *Checkpoint) body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\norigin %s\nseq %d\nhash %x\ntime %s\nfirst %d\n",
		checkpointHeader, c.Origin, c.Seq, c.Hash, c.Time.UTC().Format(time.RFC3339Nano), c.First)
	for _, h := range c.Hashes {
		fmt.Fprintf(&b, "%x\n", h)
	}
	return b.Bytes()
}

// Sign returns the checkpoint's file contents: its body, a blank line, and
// a signature line over the body.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	body := c.body()
	sig := ed25519.Sign(key, body)
	return fmt.Appendf(body, "\nsignature ed25519 %s %s\n", c.KeyID, base64.StdEncoding.EncodeToString(sig)), nil
}

// check refuses a checkpoint whose fields contradict one another.
func (c *Checkpoint) check() error {
	switch {
	case c.Seq < 1 || c.First < 1 || c.First > c.Seq:
		return fmt.Errorf("%w: seq %d, first %d", ErrBadCheckpoint, c.Seq, c.First)
	case int64(len(c.Hashes)) != c.Seq-c.First+1:
		return fmt.Errorf("%w: %d hashes listed for entries %d to %d", ErrBadCheckpoint, len(c.Hashes), c.First, c.Seq)
	case !bytes.Equal(c.Hashes[len(c.Hashes)-1], c.Hash):
		return fmt.Errorf("%w: the last listed hash is not the checkpoint's hash", ErrBadCheckpoint)
	}
	return nil
}

// ParseCheckpoint reads a checkpoint file and verifies its signature with
// pub.
func ParseCheckpoint(data []byte, pub ed25519.PublicKey) (*Checkpoint, error) {
	body, sigLine, ok := bytes.Cut(data, []byte("\nsignature "))
	if !ok || !bytes.HasSuffix(body, []byte("\n")) {
		return nil, fmt.Errorf("%w: no signature", ErrBadCheckpoint)
	}
	if err := verifySignature(body, strings.TrimSpace(string(sigLine)), pub); err != nil {
		return nil, err
	}
	c, err := parseBody(body)
	if err != nil {
		return nil, err
	}
	c.KeyID = KeyID(pub)
	return c, c.check()
}

func verifySignature(body []byte, line string, pub ed25519.PublicKey) error {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "ed25519" {
		return fmt.Errorf("%w: malformed signature line", ErrBadCheckpoint)
	}
	if f[1] != KeyID(pub) {
		return fmt.Errorf("%w: signed by key %s, not by the ledger key %s", ErrBadCheckpoint, f[1], KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || !ed25519.Verify(pub, body, sig) {
		return fmt.Errorf("%w: the signature does not verify", ErrBadCheckpoint)
	}
	return nil
}

func parseBody(body []byte) (*Checkpoint, error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 4096), 1<<20)
	lines := []string{}
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 7 || lines[0] != checkpointHeader {
		return nil, fmt.Errorf("%w: not a %s", ErrBadCheckpoint, checkpointHeader)
	}
	c := &Checkpoint{}
	if err := parseFields(c, lines[1:6]); err != nil {
		return nil, err
	}
	for _, l := range lines[6:] {
		h, err := parseHash(l)
		if err != nil {
			return nil, err
		}
		c.Hashes = append(c.Hashes, h)
	}
	return c, nil
}

func parseFields(c *Checkpoint, lines []string) error {
	want := []string{"origin", "seq", "hash", "time", "first"}
	vals := make([]string, len(want))
	for i, l := range lines {
		name, v, ok := strings.Cut(l, " ")
		if !ok || name != want[i] {
			return fmt.Errorf("%w: line %d should be %q", ErrBadCheckpoint, i+2, want[i])
		}
		vals[i] = v
	}
	var errs []error
	c.Origin = vals[0]
	c.Seq, errs = parseInt(vals[1], errs)
	c.Hash, errs = parseHashInto(vals[2], errs)
	t, err := time.Parse(time.RFC3339Nano, vals[3])
	c.Time, errs = t, append(errs, err)
	c.First, errs = parseInt(vals[4], errs)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	return nil
}

func parseInt(s string, errs []error) (int64, []error) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, append(errs, err)
}

func parseHashInto(s string, errs []error) ([]byte, []error) {
	h, err := parseHash(s)
	return h, append(errs, err)
}

func parseHash(s string) ([]byte, error) {
	h, err := hex.DecodeString(s)
	if err != nil || len(h) != HashSize {
		return nil, fmt.Errorf("%w: %q is not a SHA-256 hash", ErrBadCheckpoint, s)
	}
	return h, nil
}
