// Package e2e holds end-to-end tests: the real ndnsvs-node binary, ndnd's own
// command-line client, real sockets, and network namespaces where a network
// matters. Tests that need root or a missing tool skip with the reason.
package e2e
