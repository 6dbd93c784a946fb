// Package natscluster holds the test of Lantern's streams on a three-server
// JetStream cluster with Lantern's accounts: each server a process of its
// own, killed with SIGKILL under a steady feed, with the figures printed.
package natscluster
