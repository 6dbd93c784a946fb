package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const devIdPPackage = "github.com/lantern-safeguarding/lantern/services/workspace/internal/devidp"

// TestProductionBuildHasNoDevelopmentProvider checks what each build
// links: without the devidp tag the development identity provider is not in
// the binary at all; with it (make run) it is.
func TestProductionBuildHasNoDevelopmentProvider(t *testing.T) {
	if deps := depsOf(t); slices.Contains(deps, devIdPPackage) {
		t.Error("a build without the devidp tag links the development identity provider")
	}
	if deps := depsOf(t, "-tags", "devidp"); !slices.Contains(deps, devIdPPackage) {
		t.Error("a build with the devidp tag lacks the development identity provider")
	}
}

func depsOf(t *testing.T, flags ...string) []string {
	t.Helper()
	args := append(append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, flags...), ".")
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}
