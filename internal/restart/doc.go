// Package restart holds the end-to-end tests of restarts, with the real
// ndnsvs-node binary in a network namespace of its own: applications
// built from cmd/app (svs members on the client package's face, in
// separate processes) attached to a node that is killed and restarted;
// and a publishing member (internal/publab's pubmember, on a bbolt store)
// killed and restarted while two others receive.
package restart
