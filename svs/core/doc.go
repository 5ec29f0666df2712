// Package core is the State Vector Sync v3 protocol engine: a deterministic
// state machine with no I/O, no clock, no goroutines and no global
// randomness. It uses the standard library only.
package core
