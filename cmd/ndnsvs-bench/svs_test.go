//go:build !race

// The svs report runs ndnd's SvSync, which races (see docs/svs-driver.md).

package main

import (
	"bytes"
	"strings"
	"testing"
)

// The svs report end to end with small counts: every child runs, every
// publication is learned by every member, the table and the target lines
// are printed.
func TestBenchSVS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eleven processes")
	}
	useTestChildren(t)
	progress := captureProgress(t)
	var out bytes.Buffer
	err := benchSVS([]string{"-members", "3,20", "-pubs", "40", "-runs", "1", "-settle", "100ms"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	report := out.String()
	checkProgress(t, progress.String(), report, svsPhases(11))
	for _, want := range []string{"bare Interest/Data round trip", "3   ours", "3   ndnd", "20  floor", "20  decode", "20  ours-engine", "20  ratio", "ours on an ndnd engine", "N=3: ours/ndnd median", "N=20: ours/ndnd median"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "!!") {
		t.Error("a child saw duplicate or unpublished deliveries")
	}
	for _, line := range strings.Split(report, "\n") {
		f := strings.Fields(line)
		if len(f) == 17 && (f[1] == "ours" || f[1] == "ours-engine" || f[1] == "ndnd" || f[1] == "floor" || f[1] == "decode") && f[15] != "0" {
			t.Errorf("missed publications: %s", line)
		}
	}
}
