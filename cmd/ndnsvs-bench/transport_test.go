package main

import (
	"bytes"
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
}
