package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progressOut receives one line when a phase of a report starts (what it
// is about to measure) and one when it ends (how long it took). A report
// runs for minutes and prints its tables only at the end; these lines say
// what it is doing meanwhile. They go to stderr so that stdout carries the
// report alone (redirect it to a file and the file is the same as before).
// Tests replace it to read the lines.
var progressOut io.Writer = os.Stderr

// phase is one step of a report, started by startPhase and ended by done.
type phase struct {
	name  string
	began time.Time
}

// startPhase prints "ndnsvs-bench: <name>: <what>" and returns the phase
// whose done prints its duration.
func startPhase(name, format string, args ...any) *phase {
	fmt.Fprintf(progressOut, "ndnsvs-bench: %s: %s\n", name, fmt.Sprintf(format, args...))
	return &phase{name: name, began: time.Now()}
}

// done prints "ndnsvs-bench: <name>: done in <duration>".
func (p *phase) done() {
	fmt.Fprintf(progressOut, "ndnsvs-bench: %s: done in %v\n", p.name, roundDuration(time.Since(p.began)))
}

// roundDuration keeps three significant figures or so: 1.23s, 45.6ms,
// 2m3s, enough to tell a phase's length and not more.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
