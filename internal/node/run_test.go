package node

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// forwarderStarted is set by the test that starts this process's forwarder.
var forwarderStarted bool

func TestSupervisorReportsTheFirstFailureOnly(t *testing.T) {
	s := newSupervisor()
	first := errors.New("first")
	release := make(chan struct{})
	s.Go("a", func(context.Context) error { return first })
	<-s.Failed()
	s.Go("b", func(context.Context) error { <-release; return errors.New("second") })
	close(release)
	s.Go("quiet", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	s.Stop()
	if err := s.Err(); !errors.Is(err, first) || !strings.Contains(err.Error(), "node: a:") {
		t.Errorf("Err() = %v, want the first failure named after its goroutine", err)
	}
}

func TestSupervisorStopIsNotAFailure(t *testing.T) {
	s := newSupervisor()
	s.Go("loop", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	s.Go("done", func(context.Context) error { return nil })
	s.Stop()
	if err := s.Err(); err != nil {
		t.Errorf("Err() after Stop = %v, want nil", err)
	}
}

// Run returns the first failure of what it supervises, after stopping the
// whole node, forwarder included. (ndnd's globals allow one forwarder per
// process, so this is the package's only test that starts one.)
func TestRunStopsEverythingOnTheFirstFailure(t *testing.T) {
	if forwarderStarted {
		t.Skip("ndnd's globals host one forwarder per process, and this process has run one (-count > 1)")
	}
	forwarderStarted = true
	c := config.Default()
	dir := t.TempDir()
	c.Faces.Unix.Path = filepath.Join(dir, "nfd.sock")
	c.Node.StateDir = filepath.Join(dir, "state")
	c.Metrics.Enabled = false
	c.Faces.UDP.Enabled = false
	c.Faces.Multicast.Enabled = false
	c.Metrics.Listen = "127.0.0.1:0" // not the machine's one default port
	c.Node.Name = "/test/node"
	c.Groups[0].Cache = true
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	n, err := New(c, logger, &logs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-ran:
		t.Fatalf("Run returned before ready: %v", err)
	}
	if len(n.Syncs()) != 1 {
		t.Fatalf("%d group members running, want 1", len(n.Syncs()))
	}
	// group[0].cache: the member keeps a store in the state directory.
	stores, _ := filepath.Glob(filepath.Join(c.Node.StateDir, "groups", "*", "*.db"))
	if len(stores) != 1 {
		t.Errorf("caching group: stores %v, want one", stores)
	}
	boom := errors.New("boom")
	n.sup.Go("test job", func(context.Context) error { return boom })
	err = <-ran
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "test job") {
		t.Fatalf("Run = %v, want the test job's failure", err)
	}
	select {
	case <-n.Forwarder().Done():
	default:
		t.Error("forwarder still running after Run returned")
	}
	if !strings.Contains(logs.String(), "stopping after a failure") {
		t.Errorf("no log line for the failure:\n%s", logs.String())
	}
}
