package chaos

import (
	"bufio"
	"encoding/json"
	"strings"
)

// LogPubAckDuplicates is logged by an outbox relay (pkg/outbox) whose
// re-published events the stream already held, with their number in
// "duplicates".
const LogPubAckDuplicates = "stream already held re-published events"

// LogRestored is logged by an outbox relay that published events again
// after the broker may have lost them, with the number the stream stored
// anew (it had lost them) in "restored".
const LogRestored = "the broker had lost published events; published them again from the outbox"

// LogTally counts, in a service's JSON log, the re-published events the
// stream recognised as duplicates and those it had lost.
type LogTally struct {
	PubAckDuplicates int
	Restored         int
}

// TallyLog reads a service's log. Lines that are not JSON, such as a
// panic's stack, are skipped.
func TallyLog(log string) LogTally {
	var t LogTally
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var entry struct {
			Msg        string `json:"msg"`
			Duplicates int    `json:"duplicates"`
			Restored   int    `json:"restored"`
		}
		if json.Unmarshal(line, &entry) != nil {
			continue
		}
		switch entry.Msg {
		case LogPubAckDuplicates:
			t.PubAckDuplicates += entry.Duplicates
		case LogRestored:
			t.Restored += entry.Restored
		}
	}
	return t
}

// Minus is the tally since an earlier one.
func (t LogTally) Minus(earlier LogTally) LogTally {
	return LogTally{PubAckDuplicates: t.PubAckDuplicates - earlier.PubAckDuplicates, Restored: t.Restored - earlier.Restored}
}
