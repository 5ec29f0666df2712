//go:build !linux

package main

import "os"

// rawInput is not implemented here: the chat reads whole lines, as the
// terminal edits and echoes them.
func rawInput(*os.File) (restore func(), ok bool) { return nil, false }
