//go:build !race

// The pub report runs ndnd's SvsALO, whose std/sync races (see
// docs/svs-driver.md).

package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The pub report end to end with small counts: every child runs, every
// publication reaches every member intact in both implementations, and
// the tables and target lines are printed.
func TestBenchPub(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eight processes")
	}
	useTestChildren(t)
	progress := captureProgress(t)
	var out bytes.Buffer
	err := benchPub([]string{"-members", "3", "-sizes", "100,20000", "-pubs", "20", "-rate", "512", "-soak", "5120"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	var phases []string
	for i := range 8 {
		phases = append(phases, fmt.Sprintf("pub %d/8", i+1))
	}
	checkProgress(t, progress.String(), report, phases)
	for _, want := range []string{"3   100B    bare", "3   100B    ours", "3   100B    alo", "3   20000B  ours", "r.bare", "r.ours", "PublishBatch of 64", "bytes per publication", "memory soak", "durable publishing, 100 B:"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "!!") {
		t.Error("a child saw duplicate, unknown or corrupt deliveries")
	}
	for _, line := range strings.Split(report, "\n") {
		f := strings.Fields(line)
		if len(f) == 10 && (f[2] == "bare" || f[2] == "ours" || f[2] == "alo") && f[8] != "0" {
			t.Errorf("missing deliveries: %s", line)
		}
	}
}
