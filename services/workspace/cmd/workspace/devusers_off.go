//go:build !devidp

package main

import (
	"fmt"
	"io"
)

// devUsers refuses: a production build has no development identity
// provider, and so no sample users to write.
func devUsers(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "workspace dev-users: this build has no development identity provider (build with -tags devidp, as make run does)")
	return 2
}
