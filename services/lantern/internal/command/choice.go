package command

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Choice is a flag whose value is one of a few words.
type Choice struct {
	value   string
	allowed []string
}

// ChoiceFlag adds to cmd a flag that takes one of allowed, the first being
// the default, and completes them in the shell.
func ChoiceFlag(cmd *cobra.Command, name, usage string, allowed ...string) *Choice {
	c := &Choice{value: allowed[0], allowed: allowed}
	cmd.Flags().Var(c, name, usage+" ("+strings.Join(allowed, ", ")+")")
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// String is the chosen word.
func (c *Choice) String() string { return c.value }

// Set refuses a word not allowed, naming those that are.
func (c *Choice) Set(v string) error {
	if !slices.Contains(c.allowed, v) {
		return fmt.Errorf("must be one of %s", strings.Join(c.allowed, ", "))
	}
	c.value = v
	return nil
}

// Type is shown in the help as the flag's argument.
func (c *Choice) Type() string { return strings.Join(c.allowed, "|") }
