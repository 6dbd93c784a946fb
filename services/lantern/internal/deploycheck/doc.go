// Package deploycheck holds the checks of deploy/: the Helm chart rendered
// with Helm's own engine and every manifest decoded strictly into the
// Kubernetes API types, and the Compose file loaded by the Compose
// specification's reference library. They run in make test.
package deploycheck
