package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv carries a measuring child's subcommand and arguments, joined
// by 0x1F, to the re-executed test binary.
const childEnv = "NDNSVS_BENCH_CHILD"

// TestBenchChild is the child process of the report tests (TestBenchSVS,
// TestBenchSec, TestBenchPub, and TestBenchTransport's consumer): the test
// binary re-executed with the child's subcommand and arguments in the
// environment (useTestChildren).
func TestBenchChild(t *testing.T) {
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		t.Skip("helper process of the report tests")
	}
	args := strings.Split(v, "\x1f")
	run := map[string]func([]string, io.Writer) error{"svs": benchSVS, "sec": benchSec, "pub": benchPub, "transport": benchTransport}[args[0]]
	if run == nil {
		fmt.Fprintf(os.Stderr, "child: unknown subcommand %q\n", args[0])
		os.Exit(1)
	}
	if err := run(args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// useTestChildren makes the measuring children of the calling test
// re-executions of the test binary (TestBenchChild).
func useTestChildren(t *testing.T) {
	saved := childCommand
	t.Cleanup(func() { childCommand = saved })
	childCommand = func(sub string, args []string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$")
		cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(append([]string{sub}, args...), "\x1f"))
		return cmd, nil
	}
}
