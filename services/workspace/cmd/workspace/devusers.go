//go:build devidp

package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"
)

// devUsers writes the sample users file:
//
//	workspace dev-users --reference DIR --out FILE [--print]
func devUsers(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev-users", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reference := fs.String("reference", "reference", "the reference data folder to make one user per role and organisation from")
	out := fs.String("out", ".lantern/dev-users.json", "the users file to write (passwords of users already in it are kept)")
	show := fs.Bool("print", false, "print the featured users and their passwords")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	f, err := devidp.GenerateUsersFile(*reference, *out)
	if err != nil {
		fmt.Fprintf(stderr, "workspace dev-users: %v\n", err)
		return 1
	}
	if *show {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tPASSWORD\tROLE\tORGANISATION")
		for _, u := range f.Featured() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Password, u.Role, u.OrganisationName)
		}
		_ = tw.Flush()
	}
	return 0
}
