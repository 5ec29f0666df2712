// Package restart holds the end-to-end test of applications attached to a
// node that is killed and restarted: the real ndnsvs-node binary in a
// network namespace of its own, and applications built from cmd/app (svs
// members on the client package's face) in separate processes.
package restart
