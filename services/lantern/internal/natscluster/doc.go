// Package natscluster holds the tests of Lantern on a three-server
// JetStream cluster with Lantern's accounts, each server a process of its
// own, and the streams at three replicas set by the provisioning step:
//
//   - the streams alone, fed directly, while the leader and then a second
//     server are killed with SIGKILL (cluster_test.go);
//   - the whole pipeline, every service, fed through the gateway, through
//     the same kills (fault F1 on a cluster) and through a partition of
//     the stream's leader from the other two servers (fault F9), made by
//     cutting the TCP proxies every route between servers passes through,
//     not with network namespaces (pipeline_test.go).
//
// Each prints the leader change and the recovery times as figures and
// checks that nothing acknowledged was lost or applied twice. `make chaos`
// runs them with LANTERN_CHAOS=long: longer faults and a soak between them.
package natscluster
