package config

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalid is matched, with errors.Is, by every *Error: the configuration
// was read but is not acceptable. I/O errors from Load do not match it.
var ErrInvalid = errors.New("config: invalid configuration")

// Error is one problem in a configuration. Its message has the form
//
//	config: <file>:<line>: <key>: <reason>
//
// where the parts that are unknown are left out: File is empty for a
// Config checked with Validate, Line is 0 when the key is not in the file
// (a default that a cross-key rule rejects) or for Validate, and Key is
// empty for a syntax error.
type Error struct {
	File   string // as given to Parse or Load
	Line   int    // 1-based; 0 if unknown
	Key    string // dotted path such as faces.udp.listen[1]
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// joinErrors returns nil for no problems, the *Error itself for one, and
// errors.Join of them all otherwise, sorted by line (problems without a
// line last) and then in the order found.
func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// maxQuoted bounds how much of a bad value an error message repeats.
const maxQuoted = 80

// quote returns s as a Go string literal, shortened when long so that a
// stray megabyte in a config file does not end up in a log line.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
