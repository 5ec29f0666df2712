//go:build !race

// The svs report runs ndnd's SvSync, which races (see docs/svs-driver.md).

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const childEnv = "NDNSVS_BENCH_SVS_CHILD"

// TestBenchSVSChild is the child process of TestBenchSVS: the test binary
// re-executed with the child's arguments in the environment.
func TestBenchSVSChild(t *testing.T) {
	args, ok := os.LookupEnv(childEnv)
	if !ok {
		t.Skip("helper process of TestBenchSVS")
	}
	if err := benchSVS(strings.Split(args, "\x1f"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// The svs report end to end with small counts: every child runs, every
// publication is learned by every member, the table and the target lines
// are printed.
func TestBenchSVS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts eleven processes")
	}
	saved := svsChildCommand
	t.Cleanup(func() { svsChildCommand = saved })
	svsChildCommand = func(args []string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchSVSChild$")
		cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
		return cmd, nil
	}
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
