package chaos_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lantern-safeguarding/lantern/pkg/ppn"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/chaos"
	"github.com/lantern-safeguarding/lantern/services/lantern/internal/cluster"
)

// knownAreas answers the notice rules from the shipped reference data.
type knownAreas struct{ set *refdata.Set }

func (k knownAreas) KnownLocalAuthority(code string) bool {
	_, ok := k.set.LocalAuthority(code)
	return ok
}

func TestGenerator_NoticesAreValidUniqueAndVaried(t *testing.T) {
	ref, err := refdata.Load(filepath.Join(cluster.Root(), "reference"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	gen, err := chaos.NewGenerator(ref, "T1", 7, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	refs, keys := map[string]bool{}, map[string]bool{}
	areas, schools, childCounts := map[string]bool{}, map[string]bool{}, map[int]bool{}
	for range n {
		notice, err := gen.Next()
		if err != nil {
			t.Fatal(err)
		}
		in, err := ppn.Decode(notice.Body)
		if err != nil {
			t.Fatalf("notice %s does not decode: %v", notice.Reference, err)
		}
		if err := in.Validate(knownAreas{ref}, now); err != nil {
			t.Fatalf("notice %s breaks the rules: %v", notice.Reference, err)
		}
		refs[in.PoliceReference], keys[notice.IdempotencyKey] = true, true
		areas[in.LocalAuthorityCode], childCounts[len(in.Children)] = true, true
		for _, c := range in.Children {
			if c.Education != nil && c.Education.URN != "" {
				schools[c.Education.URN] = true
			}
		}
	}
	got := map[string]int{"references": len(refs), "keys": len(keys), "areas": len(areas),
		"schools": len(schools), "child counts": len(childCounts)}
	want := map[string]int{"references": n, "keys": n, "areas": len(ref.LocalAuthorities()),
		"schools": len(ref.Schools()), "child counts": 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("distinct values over %d notices (-want +got):\n%s", n, diff)
	}
}

func TestNHSNumber_PassesTheCheckDigit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if n := chaos.NHSNumber(rng); !ppn.ValidNHSNumber(n) {
			t.Fatalf("NHSNumber() = %s, which fails the modulus 11 check", n)
		}
	}
}
