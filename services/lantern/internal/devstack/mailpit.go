package devstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Mailpit listens on its documented ports, on loopback only: SMTP on 1025
// and the web view of every message on 8025.
const (
	mailpitSMTP = "127.0.0.1:1025"
	mailpitUI   = "http://127.0.0.1:8025"
)

// mailpitWanted reports whether make run starts Mailpit: unless
// LANTERN_SMTP_URL names a mail server of the user's own.
func mailpitWanted() bool { return os.Getenv("LANTERN_SMTP_URL") == "" }

// startMailpit starts Mailpit (built by make run from the module proxy
// into the binaries folder) so that a new user sees the prompts arrive,
// and returns the variables that send every prompt to it.
func (s *stack) startMailpit(ctx context.Context) ([]string, error) {
	if !mailpitWanted() {
		return nil, nil
	}
	fmt.Fprintln(s.o.Out, "Starting Mailpit for the e-mail prompts…")
	env := append(os.Environ(), "MP_SMTP_BIND_ADDR="+mailpitSMTP, "MP_UI_BIND_ADDR="+mailpitUI[len("http://"):],
		"MP_DATABASE="+filepath.Join(s.o.StateDir, "mailpit.db"))
	if err := s.startTool(ctx, "Mailpit", mailpitUI, "make run builds it; set LANTERN_SMTP_URL to use a mail server of yours", env); err != nil {
		return nil, err
	}
	return []string{"LANTERN_SMTP_URL=smtp://" + mailpitSMTP, "LANTERN_MAIL_FROM=Lantern <lantern@lantern.localhost>"}, nil
}

// mailpitLine is the banner's line for the e-mail prompts.
func mailpitLine() string {
	if !mailpitWanted() {
		return " E-mail prompts: sent through LANTERN_SMTP_URL\n"
	}
	return " E-mail prompts (Mailpit): " + mailpitUI + "  (SMTP on " + mailpitSMTP + "; every prompt lands here)\n"
}
