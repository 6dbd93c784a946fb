package refdata

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// The files of a reference data folder, as contract.md section 3 names them.
const (
	fileLocalAuthorities = "local_authorities.csv"
	fileSchools          = "schools.csv"
	fileGPPractices      = "gp_practices.csv"
	fileServices         = "services.csv"
	fileBankHolidays     = "bank-holidays.json"
	dirCalendars         = "calendars"
)

// snapshot is the content of every file Lantern reads from a reference data
// folder, taken in one pass. Parsing works on the snapshot rather than on
// the folder, so the version a set reports always matches the bytes it was
// built from, even if the folder changes while it loads.
type snapshot struct {
	// files maps each path inside the folder, with forward slashes, to its
	// content. A file that is missing is absent.
	files map[string][]byte
	// calendarsMissing is true when the folder has no calendars directory.
	calendarsMissing bool
	version          string
}

// readSnapshot reads the fixed files and every calendars/*.json file of dir.
// Missing files are left for validation to report; any other failure to
// read is an error.
func readSnapshot(dir string) (snapshot, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return snapshot{}, fmt.Errorf("reading reference data folder: %w", err)
	}
	if !info.IsDir() {
		return snapshot{}, fmt.Errorf("reading reference data folder: %s is not a directory", dir)
	}
	snap := snapshot{files: map[string][]byte{}}
	for _, name := range []string{fileLocalAuthorities, fileSchools, fileGPPractices, fileServices, fileBankHolidays, fileContacts, fileWebhooks} {
		if err := snap.readFile(dir, name); err != nil {
			return snapshot{}, err
		}
	}
	if err := snap.readCalendars(dir); err != nil {
		return snapshot{}, err
	}
	snap.version = snap.hash()
	return snap, nil
}

func (s *snapshot) readFile(dir, name string) error {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading reference data file %s: %w", name, err)
	}
	s.files[name] = data
	return nil
}

func (s *snapshot) readCalendars(dir string) error {
	entries, err := os.ReadDir(filepath.Join(dir, dirCalendars))
	if errors.Is(err, fs.ErrNotExist) {
		s.calendarsMissing = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading reference data calendars: %w", err)
	}
	for _, entry := range entries {
		if entry.IsDir() || !strings.HasSuffix(entry.Name(), ".json") {
			continue
		}
		if err := s.readFile(dir, path.Join(dirCalendars, entry.Name())); err != nil {
			return err
		}
	}
	return nil
}

// calendarFiles lists the calendar files read, in name order.
func (s *snapshot) calendarFiles() []string {
	var names []string
	for name := range s.files {
		if strings.HasPrefix(name, dirCalendars+"/") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// hash digests every file's path, length and content in path order; the
// length keeps one file's end from being read as the next file's start.
func (s *snapshot) hash() string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(s.files)) {
		data := s.files[name]
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(data))))
		h.Write(data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
