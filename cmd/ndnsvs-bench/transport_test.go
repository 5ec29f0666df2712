package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const transportClientEnv = "NDNSVS_BENCH_TRANSPORT_CLIENT"

// TestBenchTransportClient is the consumer child of TestBenchTransport: the
// test binary re-executed.
func TestBenchTransportClient(t *testing.T) {
	if _, ok := os.LookupEnv(transportClientEnv); !ok {
		t.Skip("helper process of TestBenchTransport")
	}
	if err := transportClient(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// The transport report end to end at a tiny size (a few seconds): the
// forwarder with both kinds of listener, every row's client, the blocks,
// the table and the ratio lines. This test's process hosts the forwarder.
func TestBenchTransport(t *testing.T) {
	saved := transportClientCommand
	t.Cleanup(func() { transportClientCommand = saved })
	transportClientCommand = func() (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchTransportClient$")
		cmd.Env = append(os.Environ(), transportClientEnv+"=1")
		return cmd, nil
	}
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
