// Package faults lets crash tests kill a Lantern process at a named point,
// such as after a handler's effects are committed but before the message is
// acknowledged. A point fires only when it is listed in the LANTERN_FAULTS
// environment variable, which production never sets.
package faults

import (
	"os"
	"strings"
	"sync"
	"syscall"
)

// EnvVar lists the armed fault points, comma separated.
const EnvVar = "LANTERN_FAULTS"

// Named crash points. Each is checked at exactly one place in the code.
const (
	// ConsumeAfterReceive fires once a message is received, before its
	// handler runs.
	ConsumeAfterReceive = "consume.after_receive"
	// ConsumeBeforeAck fires after a handler's effects are committed and
	// before the message is acknowledged.
	ConsumeBeforeAck = "consume.before_ack"
	// IntakeAfterCommit fires after a notice is stored, before the HTTP
	// response is written.
	IntakeAfterCommit = "intake.after_commit"
	// RelayAfterPublish fires after an outbox row is published, before it
	// is marked sent.
	RelayAfterPublish = "relay.after_publish"
	// ChannelAfterAccept fires after an outbound channel (an SMTP server,
	// GOV.UK Notify, a webhook) accepted a prompt, before its acceptance
	// is committed.
	ChannelAfterAccept = "channel.after_accept"
)

var (
	once  sync.Once
	armed map[string]bool
)

func load() {
	armed = map[string]bool{}
	for _, p := range strings.Split(os.Getenv(EnvVar), ",") {
		if p = strings.TrimSpace(p); p != "" {
			armed[p] = true
		}
	}
}

// Armed reports whether point is listed in LANTERN_FAULTS.
func Armed(point string) bool {
	once.Do(load)
	return armed[point]
}

// Crash kills the process with SIGKILL if point is armed: no deferred calls,
// no flushing, exactly as a power cut or the kernel's OOM killer would.
func Crash(point string) {
	if !Armed(point) {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL is delivered asynchronously; never carry on.
}
