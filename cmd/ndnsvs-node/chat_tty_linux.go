//go:build linux

package main

import (
	"os"
	"syscall"
	"unsafe"
)

// rawInput turns off the terminal's own line editing and echo on f, so
// that the chat edits and echoes the line being typed itself (chatScreen),
// and keeps the rest: Ctrl-C still sends SIGINT, and output processing
// still turns "\n" into a new line. restore puts the terminal back as it
// was. ok is false when f is no terminal.
func rawInput(f *os.File) (restore func(), ok bool) {
	fd := f.Fd()
	var old syscall.Termios
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&old))); errno != 0 {
		return nil, false
	}
	raw := old
	raw.Lflag &^= syscall.ICANON | syscall.ECHO
	raw.Cc[syscall.VMIN], raw.Cc[syscall.VTIME] = 1, 0
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&raw))); errno != 0 {
		return nil, false
	}
	return func() {
		_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&old)))
	}, true
}
