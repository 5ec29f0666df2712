package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The transport report end to end at a tiny size (a few seconds): the
// forwarder with both kinds of listener, every row's client, the blocks,
// the table and the ratio lines. This test's process hosts the forwarder.
func TestBenchTransport(t *testing.T) {
	useTestChildren(t)
	progress := captureProgress(t)
	var out bytes.Buffer
	err := benchTransport([]string{"-rtt", "40", "-pipe", "400", "-blocks", "2", "-window", "16"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	checkProgress(t, progress.String(), report, []string{"transport setup", "transport blocks"})
	for _, want := range []string{"block  2/2", "unix-ours ", "unix-ndnd ", "udp-ours ", "udp-ndnd ", "\nunix ", "\nudp ", "target: median <= 1.00"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Each row's context switches per sequential exchange: a packet from a
	// socket wakes at least one of the forwarder's threads.
	rows := 0
	for _, line := range strings.Split(report, "\n") {
		f := strings.Fields(line)
		if len(f) != 9 || !strings.HasSuffix(f[0], "-ours") && !strings.HasSuffix(f[0], "-ndnd") {
			continue
		}
		rows++
		if sw, err := strconv.ParseFloat(f[8], 64); err != nil || sw <= 0 {
			t.Errorf("%s: switch/exch seq %q, want a positive figure", f[0], f[8])
		}
	}
	if rows != 4 {
		t.Errorf("%d rows with 9 figures in the table, want 4", rows)
	}
}

// -only names a transport or one row; a lone row is measured alone, its
// round trips its own, with no ratio lines. (In a process of its own, as
// the control's.)
func TestBenchTransportOneRow(t *testing.T) {
	var out bytes.Buffer
	if err := benchTransport([]string{"-only", "udp-nope"}, &out); err == nil || !strings.Contains(err.Error(), "udp-ndnd") {
		t.Fatalf("-only udp-nope: %v, want an error that lists the rows", err)
	}
	if !inOwnProcess(t) {
		return
	}
	useTestChildren(t)
	captureProgress(t)
	err := benchTransport([]string{"-only", "unix-ndnd", "-rtt", "40", "-pipe", "400", "-blocks", "2", "-window", "16"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	if !strings.Contains(report, "\nunix-ndnd ") || !strings.Contains(report, "one row:") {
		t.Errorf("report lacks the row or the one-row line")
	}
	for _, unwanted := range []string{"unix-ours ", "udp-", "target:", "\nunix "} {
		if strings.Contains(report, unwanted) {
			t.Errorf("one-row report has %q", unwanted)
		}
	}
	for _, line := range strings.Split(report, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "unix-ndnd" && f[1] == "0s" {
			t.Errorf("the lone row has no round trips: %q", line)
		}
	}
}

// The control run: two clients of ours on each listener of ours, no ndnd
// listener, and the ratio lines marked as a control, with no target. (In a
// process of its own: one forwarder per process, and TestBenchTransport
// has this one's.)
func TestBenchTransportControl(t *testing.T) {
	if !inOwnProcess(t) {
		return
	}
	useTestChildren(t)
	captureProgress(t)
	var out bytes.Buffer
	err := benchTransport([]string{"-control", "-only", "udp", "-rtt", "40", "-pipe", "400", "-blocks", "2", "-window", "16"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []string{"control run", "udp-ours ", "udp-ours2 ", "\nudp ", "control: medians within"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, unwanted := range []string{"ndnd", "target:", "unix-"} {
		if strings.Contains(report, unwanted) {
			t.Errorf("control report has %q", unwanted)
		}
	}
}

// inOwnProcess runs the test t again in a process of its own and returns
// false, or, in that process, returns true: a test that starts a
// forwarder needs one, since a process runs one forwarder in its life.
func inOwnProcess(t *testing.T) bool {
	t.Helper()
	const env = "NDNSVS_BENCH_TEST_OWN_PROCESS"
	if os.Getenv(env) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+t.Name())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s in a process of its own: %v\n%s", t.Name(), err, out)
	}
	return false
}
