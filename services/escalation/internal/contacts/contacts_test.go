package contacts_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"

	"github.com/lantern-safeguarding/lantern/pkg/events"
	"github.com/lantern-safeguarding/lantern/pkg/refdata"
	"github.com/lantern-safeguarding/lantern/services/escalation/internal/contacts"
)

const header = "recipient_kind,recipient_id,manager_name,manager_email\n"

// sampleReference is the reference data shipped with Lantern.
const sampleReference = "../../../../reference"

func TestParseRefusesEveryProblemAtOnce(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "empty file",
			in:   "",
			want: []string{"escalation_contacts.csv line 1: the file is empty; it needs at least the header recipient_kind,recipient_id,manager_name,manager_email"},
		},
		{
			name: "wrong header",
			in:   "kind,id,name,email\nmash,E06000035,Duty manager,duty@la.lantern.test\n",
			want: []string{"escalation_contacts.csv line 1: the header must be exactly recipient_kind,recipient_id,manager_name,manager_email"},
		},
		{
			name: "several bad rows",
			in: header +
				"Police,KENT,Duty inspector,duty@kent.lantern.test\n" +
				"mash,E06000035,,mash-managers@medway.lantern.test\n" +
				"school,118234,Head,Head <head@school.lantern.test>\n" +
				"gp,G82001,Practice manager,manager@localhost\n" +
				"mash,E10000016,Duty manager,duty@kent.lantern.test\n" +
				"mash,E10000016,Another manager,other@kent.lantern.test\n" +
				"idva,E06000035,Too,many,values\n",
			want: []string{
				`escalation_contacts.csv line 2, field recipient_kind: "Police" is not a recipient kind, nor police for a force`,
				"escalation_contacts.csv line 3, field manager_name: is required",
				"escalation_contacts.csv line 4, field manager_email: is not a bare email address with a domain of at least two labels",
				"escalation_contacts.csv line 5, field manager_email: is not a bare email address with a domain of at least two labels",
				"escalation_contacts.csv line 7, field recipient_id: this recipient is already listed on line 6",
				"escalation_contacts.csv line 8: has 5 values; every row needs 4",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := contacts.Parse([]byte(tc.in))
			var loadErr *contacts.LoadError
			if !errors.As(err, &loadErr) {
				t.Fatalf("Parse() error = %v, want a *LoadError", err)
			}
			if diff := cmp.Diff(tc.want, loadErr.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, p := range loadErr.Problems {
				if strings.Contains(p, "@") {
					t.Errorf("problem %q shows an address", p)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	ref, err := refdata.Load(sampleReference)
	if err != nil {
		t.Fatal(err)
	}
	book, err := contacts.Parse([]byte("\ufeff" + header + "\n" +
		"mash, E06000035 ,Medway MASH duty manager,mash-managers@medway.lantern.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		book      *contacts.Book
		ref       *refdata.Set
		recipient events.Recipient
		want      contacts.Contact
	}{
		{
			name: "listed in the contacts file", book: book, ref: ref,
			recipient: events.Recipient{Kind: events.KindMASH, ID: "E06000035"},
			want:      contacts.Contact{Name: "Medway MASH duty manager", Address: "mash-managers@medway.lantern.test", Source: contacts.SourceContactsFile},
		},
		{
			name: "MASH not listed: the local authority's MASH mailbox", book: book, ref: ref,
			recipient: events.Recipient{Kind: events.KindMASH, ID: "E10000016"},
			want:      contacts.Contact{Address: "front-door@kent.lantern.test", Source: contacts.SourceReferenceData},
		},
		{
			name: "school: the safeguarding lead's address", book: nil, ref: ref,
			recipient: events.Recipient{Kind: events.KindSchool, ID: "118234"},
			want:      contacts.Contact{Address: "dsl@chathamhill-primary.medway.lantern.test", Source: contacts.SourceReferenceData},
		},
		{
			name: "GP practice: its safeguarding mailbox", book: book, ref: ref,
			recipient: events.Recipient{Kind: events.KindGP, ID: "G82001"},
			want:      contacts.Contact{Address: "safeguarding.g82001@nhs.lantern.test", Source: contacts.SourceReferenceData},
		},
		{
			name: "service: its mailbox", book: book, ref: ref,
			recipient: events.Recipient{Kind: events.KindHealthVisiting, ID: "E06000035"},
			want:      contacts.Contact{Address: "health-visiting@medway.lantern.test", Source: contacts.SourceReferenceData},
		},
		{
			name: "unknown to the reference data: the notice's address", book: book, ref: ref,
			recipient: events.Recipient{Kind: events.KindSchool, ID: "999999", Email: "dsl@unknown.lantern.test"},
			want:      contacts.Contact{Address: "dsl@unknown.lantern.test", Source: contacts.SourceNotice},
		},
		{
			name: "no reference data and no address", book: nil, ref: nil,
			recipient: events.Recipient{Kind: events.KindGP, ID: "G82001"},
			want:      contacts.Contact{Source: contacts.SourceNone},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.book.Resolve(tc.ref, tc.recipient)); diff != "" {
				t.Errorf("Resolve(%+v) (-want +got):\n%s", tc.recipient, diff)
			}
		})
	}
}

func TestStoreReloadsAndKeepsTheLastGoodBook(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, contacts.FileName), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mash := events.Recipient{Kind: events.KindMASH, ID: "E06000035", Email: "mash@medway.lantern.test"}

	store, err := contacts.NewStore(dir, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("a missing file must load as empty: %v", err)
	}
	steps := []struct {
		name        string
		content     string
		wantChanged bool
		wantErr     bool
		wantAddress string
	}{
		{name: "file added", content: header + "mash,E06000035,Duty,duty@medway.lantern.test\n",
			wantChanged: true, wantAddress: "duty@medway.lantern.test"},
		{name: "same content", content: header + "mash,E06000035,Duty,duty@medway.lantern.test\n",
			wantAddress: "duty@medway.lantern.test"},
		{name: "broken edit is refused", content: header + "mash,E06000035,Duty,not-an-address\n",
			wantErr: true, wantAddress: "duty@medway.lantern.test"},
		{name: "fixed edit is used", content: header + "mash,E06000035,Duty,managers@medway.lantern.test\n",
			wantChanged: true, wantAddress: "managers@medway.lantern.test"},
		{name: "file removed", content: "",
			wantChanged: true, wantAddress: "mash@medway.lantern.test"},
	}
	for _, step := range steps {
		if step.name == "file removed" {
			if err := os.Remove(filepath.Join(dir, contacts.FileName)); err != nil {
				t.Fatal(err)
			}
		} else {
			write(step.content)
		}
		changed, err := store.CheckNow()
		if changed != step.wantChanged || (err != nil) != step.wantErr {
			t.Errorf("%s: CheckNow() = %v, %v; want changed %v, error %v", step.name, changed, err, step.wantChanged, step.wantErr)
		}
		if got := store.Current().Resolve(nil, mash).Address; got != step.wantAddress {
			t.Errorf("%s: manager address %q, want %q", step.name, got, step.wantAddress)
		}
	}
}

func TestNewStoreRefusesABrokenFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, contacts.FileName), []byte("nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := contacts.NewStore(dir, zaptest.NewLogger(t)); err == nil {
		t.Error("NewStore accepted a file with a bad header")
	}
}
