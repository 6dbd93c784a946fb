// Package command holds what every `lantern` command shares on top of
// cobra: how mistakes on the command line are reported (what was wrong and
// what to type instead, exit status 2), groups of subcommands that refuse
// unknown names with suggestions, and flags limited to a set of words that
// complete in the shell.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses of the lantern command.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// UsageError is a mistake on the command line, as opposed to a failure of
// the work asked for: it is answered with the command's help hint and exit
// status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// Execute runs root with args and returns the exit status. Errors are
// written to stderr after the command's path ("lantern audit timeline: …"),
// followed for command-line mistakes by
// the help command to run.
func Execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	Prepare(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	var usage UsageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return ExitUsage
	}
	return ExitError
}

// Prepare sets what every lantern command tree shares: errors are reported
// once by Execute (not also by cobra, with the whole usage text), and bad
// flags are usage errors.
func Prepare(root *cobra.Command) {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err} })
}

// NewGroup is a group of subcommands named use, described by short.
func NewGroup(use, short string, subs ...*cobra.Command) *cobra.Command {
	return Group(&cobra.Command{Use: use, Short: short}, subs...)
}

// Group makes cmd a group of subcommands: run alone it says which commands
// it has, and an unknown name is refused with the nearest ones.
func Group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.AddCommand(subs...)
	if !strings.Contains(cmd.Use, " ") {
		cmd.Use += " <command>"
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return Usagef("needs a command: %s", strings.Join(names(c), ", "))
		}
		hint := ""
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			hint = "; did you mean " + strings.Join(s, " or ") + "?"
		} else {
			hint = "; the commands are " + strings.Join(names(c), ", ")
		}
		return Usagef("unknown command %q%s", args[0], hint)
	}
	return cmd
}

func names(c *cobra.Command) []string {
	var out []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			out = append(out, sub.Name())
		}
	}
	return out
}

// Args checks that a command has exactly the positional arguments named in
// use (for example "<incident_id>"), and says how to call it if not.
func Args(use ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == len(use) {
			return nil
		}
		want := c.CommandPath() + " " + strings.Join(use, " ")
		switch {
		case len(use) == 0:
			return Usagef("takes no arguments, but was given %q", args[0])
		case len(args) < len(use):
			return Usagef("needs %s: type %s", strings.Join(use[len(args):], " "), want)
		default:
			return Usagef("takes %d argument(s), but was given %d: type %s", len(use), len(args), want)
		}
	}
}
