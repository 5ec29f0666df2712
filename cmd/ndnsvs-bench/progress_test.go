package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// captureProgress sends the phase lines to a buffer until the test ends.
func captureProgress(t *testing.T) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	saved := progressOut
	progressOut = &b
	t.Cleanup(func() { progressOut = saved })
	return &b
}

// checkProgress checks the phase lines of a whole report: the phases named
// in want start in that order, each says what it measures and ends with its
// duration before the next starts, and none of them went to the report.
func checkProgress(t *testing.T, progress, report string, want []string) {
	t.Helper()
	t.Log("\n" + progress)
	lines := strings.Split(strings.TrimSuffix(progress, "\n"), "\n")
	if len(lines) != 2*len(want) {
		t.Fatalf("%d progress lines, want %d (a start and an end for each of %q)", len(lines), 2*len(want), want)
	}
	for i, name := range want {
		start, end := lines[2*i], lines[2*i+1]
		what, ok := strings.CutPrefix(start, "ndnsvs-bench: "+name+": ")
		if !ok || strings.HasPrefix(what, "done in") || len(what) < 20 {
			t.Errorf("phase %q: start line %q, want what it measures", name, start)
		}
		d, ok := strings.CutPrefix(end, "ndnsvs-bench: "+name+": done in ")
		if !ok {
			t.Errorf("phase %q: end line %q", name, end)
			continue
		}
		if dd, err := time.ParseDuration(d); err != nil || dd < 0 {
			t.Errorf("phase %q: duration %q: %v", name, d, err)
		}
	}
	if strings.Contains(report, "ndnsvs-bench: ") {
		t.Error("progress lines in the report")
	}
}

func TestPhaseLines(t *testing.T) {
	b := captureProgress(t)
	ph := startPhase("fw soak", "%d unique Data names", 1000)
	ph.done()
	checkProgress(t, b.String(), "", []string{"fw soak"})
	if !strings.HasPrefix(b.String(), "ndnsvs-bench: fw soak: 1000 unique Data names\n") {
		t.Errorf("start line: %q", b.String())
	}
}

func TestRoundDuration(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{123456 * time.Nanosecond, 123 * time.Microsecond},
		{45678901 * time.Nanosecond, 45680 * time.Microsecond},
		{1234567890 * time.Nanosecond, 1230 * time.Millisecond},
		{12345678901 * time.Nanosecond, 12300 * time.Millisecond},
		{123456789012 * time.Nanosecond, 123 * time.Second},
	} {
		if got := roundDuration(tc.in); got != tc.want {
			t.Errorf("roundDuration(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// svsPhases are the phase names of an svs report of n children.
func svsPhases(n int) []string {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("svs %d/%d", i+1, n))
	}
	return names
}
