// Package freeport picks loopback TCP ports that are free, for servers
// that make run and the tests start as processes of their own and must be
// told their port before they bind it.
package freeport

import (
	"fmt"
	"net"
)

// Pick returns n distinct ports that were free a moment ago. Each is held
// until all are chosen, so none repeats; another process may still take
// one before its server binds it.
func Pick(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// TB is the part of testing.TB that For uses, so that the package, which
// make run's stack also imports, does not bring the testing package in.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// For is Pick for a test, which fails if no port is free.
func For(t TB, n int) []int {
	t.Helper()
	ports, err := Pick(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}
