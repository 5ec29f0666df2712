// Package deploy holds the files that deploy ndnsvs-node (systemd/: a
// hardened unit and its configuration) and the tests that check them; it
// has no code of its own.
package deploy
