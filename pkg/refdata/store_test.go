package refdata_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lantern-safeguarding/lantern/pkg/refdata"
)

// personalEmail stands in for a named person's address typed into the wrong
// place; it must reach LastError, for the operator, but never the log.
const personalEmail = "jane doe at chathamhill"

func newTestStore(t *testing.T, dir string) (*refdata.Store, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	store, err := refdata.NewStore(dir, zap.New(core))
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return store, logs
}

func schoolName(t *testing.T, set *refdata.Set) string {
	t.Helper()
	school, ok := set.School("118234")
	if !ok {
		t.Fatal("School(118234) not found")
	}
	return school.Name
}

func TestStoreKeepsTheLastGoodSetUntilTheFolderIsFixed(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, validFolder())
	store, logs := newTestStore(t, dir)
	good := store.Current()

	// A bad edit is refused and the set in use stays.
	writeFile(t, dir, "schools.csv", schoolHeader+
		"118234,Chatham Hill Primary School,E06000035,primary,"+personalEmail+",08:40,medway-standard\n")
	changed, err := store.CheckNow()
	var loadErr *refdata.LoadError
	if changed || !errors.As(err, &loadErr) {
		t.Fatalf("CheckNow() after a bad edit = %t, %v; want false and a *LoadError", changed, err)
	}
	wantProblems := []refdata.Problem{{File: "schools.csv", Line: 2, Field: "dsl_email",
		Message: fmt.Sprintf("%q is not a plausible email address", personalEmail)}}
	if diff := cmp.Diff(wantProblems, loadErr.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if store.Current() != good {
		t.Errorf("Current() changed after a refused reload")
	}
	if !errors.Is(store.LastError(), err) {
		t.Errorf("LastError() = %v, want %v", store.LastError(), err)
	}

	// The same bad content is not loaded or logged again.
	if changed, err := store.CheckNow(); changed || err == nil {
		t.Errorf("second CheckNow() on the same bad content = %t, %v; want false and the error", changed, err)
	}
	refusals := logs.FilterMessageSnippet("refused").All()
	if len(refusals) != 1 {
		t.Fatalf("logged %d refusals, want 1", len(refusals))
	}
	wantFields := map[string]any{"locations": []any{"schools.csv line 2, field dsl_email"}, "problems": int64(1)}
	gotFields := refusals[0].ContextMap()
	for key, want := range wantFields {
		if diff := cmp.Diff(want, gotFields[key]); diff != "" {
			t.Errorf("refusal log field %s (-want +got):\n%s", key, diff)
		}
	}
	assertNotLogged(t, logs, personalEmail)

	// A good edit replaces the set and clears the error.
	writeFile(t, dir, "schools.csv", schoolHeader+strings.Replace(schoolRow, "Chatham Hill", "Chatham Heights", 1))
	changed, err = store.CheckNow()
	if !changed || err != nil {
		t.Fatalf("CheckNow() after a good edit = %t, %v; want true, nil", changed, err)
	}
	if got := schoolName(t, store.Current()); got != "Chatham Heights Primary School" {
		t.Errorf("school name after reload = %q, want the edited name", got)
	}
	if store.Current().Version() == good.Version() {
		t.Errorf("Version() did not change with the content")
	}
	if err := store.LastError(); err != nil {
		t.Errorf("LastError() after a good reload = %v, want nil", err)
	}
}

func TestStoreForgetsTheErrorWhenTheFolderIsPutBack(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, validFolder())
	store, _ := newTestStore(t, dir)
	good := store.Current()

	writeFile(t, dir, "services.csv", serviceHeader+"E06000035,idva,Medway IDVA Service,idva\n")
	if _, err := store.CheckNow(); err == nil {
		t.Fatal("CheckNow() accepted a bad services.csv")
	}
	writeFile(t, dir, "services.csv", validFolder()["services.csv"])
	changed, err := store.CheckNow()
	if changed || err != nil {
		t.Errorf("CheckNow() after putting the folder back = %t, %v; want false, nil", changed, err)
	}
	if store.Current() != good || store.LastError() != nil {
		t.Errorf("after putting the folder back: same set %t, LastError %v; want the same set and no error",
			store.Current() == good, store.LastError())
	}
}

func TestStoreKeepsTheSetWhenTheFolderDisappears(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, validFolder())
	store, logs := newTestStore(t, dir)
	good := store.Current()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatalf("removing %s: %v", dir, err)
	}
	changed, err := store.CheckNow()
	if changed || err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckNow() on a missing folder = %t, %v; want false and a not-exist error", changed, err)
	}
	if store.Current() != good {
		t.Errorf("Current() changed when the folder disappeared")
	}
	if n := logs.FilterMessageSnippet("refused").Len(); n != 1 {
		t.Errorf("logged %d refusals, want 1", n)
	}
}

func TestNewStoreRefusesABadFolder(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, without("bank-holidays.json"))
	store, err := refdata.NewStore(dir, zap.NewNop())
	var loadErr *refdata.LoadError
	if store != nil || !errors.As(err, &loadErr) {
		t.Fatalf("NewStore() = %v, %v; want nil and a *LoadError", store, err)
	}
}

// TestStoreWatchReloadsOnEachTick drives the watch loop with a channel in
// place of a ticker. Each send on the unbuffered channel is taken only when
// the loop is back at its select, so once a later send (or the loop's end)
// completes, the check started by an earlier one has finished: the second
// tick makes sure the good edit was loaded before the bad one is written.
func TestStoreWatchReloadsOnEachTick(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, validFolder())
	store, _ := newTestStore(t, dir)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.WatchTicks(ctx, ticks)
	}()

	writeFile(t, dir, "gp_practices.csv", gpHeader+strings.Replace(gpRow, "Maritime", "Dockside", 1))
	ticks <- time.Time{}
	ticks <- time.Time{}
	writeFile(t, dir, "gp_practices.csv", gpHeader+"G82001,,safeguarding.g82001@nhs.lantern.test\n")
	ticks <- time.Time{}
	cancel()
	<-done

	practice, ok := store.Current().GPPractice("G82001")
	if !ok || practice.Name != "Chatham Dockside Medical Practice" {
		t.Errorf("GPPractice(G82001) = %+v, %t; want the name from the first, good edit", practice, ok)
	}
	var loadErr *refdata.LoadError
	if !errors.As(store.LastError(), &loadErr) {
		t.Errorf("LastError() = %v, want the second edit's *LoadError", store.LastError())
	}
}

// TestStoreReloadsTheSample checks the Store against a copy of the shipped
// sample, as a service started with the default folder would see it.
func TestStoreReloadsTheSample(t *testing.T) {
	t.Parallel()
	dir := copyFolder(t, sampleDir)
	store, _ := newTestStore(t, dir)
	before := store.Current().Version()
	path := filepath.Join(dir, "local_authorities.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	edited := strings.Replace(string(data), "Mon-Fri 09:00-17:00,false", "Mon-Fri 09:00-17:00,true", 1)
	writeFile(t, dir, "local_authorities.csv", edited)
	if changed, err := store.CheckNow(); !changed || err != nil {
		t.Fatalf("CheckNow() = %t, %v; want true, nil", changed, err)
	}
	la, _ := store.Current().LocalAuthority("E06000035")
	if !la.EarlyYearsOptIn || store.Current().Version() == before {
		t.Errorf("after the edit: EarlyYearsOptIn %t, version changed %t; want both true",
			la.EarlyYearsOptIn, store.Current().Version() != before)
	}
}

func assertNotLogged(t *testing.T, logs *observer.ObservedLogs, text string) {
	t.Helper()
	for _, entry := range logs.All() {
		if strings.Contains(fmt.Sprint(entry.Message, entry.ContextMap()), text) {
			t.Errorf("log entry %q carries %q", entry.Message, text)
		}
	}
}

func TestNewStoreStartsWithAnUnknownSchoolPhaseAndWarnsWhere(t *testing.T) {
	t.Parallel()
	dir := writeFolder(t, withFiles(map[string]string{"schools.csv": schoolHeader +
		"118234,Chatham Hill Primary School,E06000035,Infant and junior,dsl@chathamhill.lantern.test,08:40,medway-standard\n"}))
	store, logs := newTestStore(t, dir)
	if s, ok := store.Current().School("118234"); !ok || s.Phase != refdata.PhaseUnknown {
		t.Fatalf("School(118234) = %+v, %v; want it loaded with an unknown phase", s, ok)
	}
	warned := logs.FilterMessage("reference data loaded with warnings").All()
	if len(warned) != 1 || !slices.Equal(warned[0].ContextMap()["locations"].([]any), []any{"schools.csv line 2, field phase"}) {
		t.Errorf("warning logged %v; want one naming schools.csv line 2, field phase", warned)
	}
}
