package reload_test

import (
	"errors"
	"strconv"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lantern-safeguarding/lantern/pkg/reload"
)

// file is content a test edits: a number, where a negative one is broken.
type file struct{ text string }

type number struct{ n int }

func source(f *file) reload.Source[number] {
	return reload.Source[number]{
		Name: "number", WhereKey: "file", Where: "memory",
		Read: func() (string, func() (*number, error), error) {
			text := f.text
			return text, func() (*number, error) {
				n, err := strconv.Atoi(text)
				if err != nil || n < 0 {
					return nil, errors.New("not a number of things")
				}
				return &number{n}, nil
			}, nil
		},
		Version: func(n *number) string { return strconv.Itoa(n.n) },
		Accept: func(current, next *number) error {
			if next.n < current.n {
				return errors.New("counts only go up")
			}
			return nil
		},
		Fields: func(n *number) []zap.Field { return []zap.Field{zap.Int("n", n.n)} },
	}
}

func TestValueKeepsTheLastGoodVersionAndLogsARefusalOnce(t *testing.T) {
	f := &file{text: "1"}
	core, logs := observer.New(zap.InfoLevel)
	v, err := reload.New(source(f), zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		text    string
		changed bool
		refused bool
		want    int
	}{
		{"1", false, false, 1},
		{"broken", false, true, 1},
		{"broken", false, true, 1},
		{"0", false, true, 1}, // builds, but Accept refuses it
		{"5", true, false, 5},
	}
	for _, s := range steps {
		f.text = s.text
		changed, err := v.CheckNow()
		if changed != s.changed || (err != nil) != s.refused || v.Current().n != s.want {
			t.Errorf("content %q: changed %v, err %v, in use %d; want %v, refused %v, %d",
				s.text, changed, err, v.Current().n, s.changed, s.refused, s.want)
		}
		if (v.LastError() != nil) != s.refused {
			t.Errorf("content %q: LastError %v", s.text, v.LastError())
		}
	}
	if n := logs.FilterMessage("number refused; keeping the version in use").Len(); n != 2 {
		t.Errorf("refusals logged %d times, want 2 (the broken text once, the lower count once)", n)
	}
}

func TestNewRefusesBadContent(t *testing.T) {
	if _, err := reload.New(source(&file{text: "-1"}), zap.NewNop()); err == nil {
		t.Error("New accepted broken content")
	}
}
