package node

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bounds on Run's start and stop.
const (
	// StartTimeout bounds Start within Run: listeners, management and the
	// group members are up well within it on any machine.
	StartTimeout = 30 * time.Second
	// StopTimeout bounds the orderly stop within Run.
	StopTimeout = 10 * time.Second
)

// ErrForwarderStopped is Run's error when the forwarder stops on its own.
var ErrForwarderStopped = errors.New("node: forwarder stopped")

// Run starts the node, keeps it running until ctx is done or something it
// supervises fails, and then stops everything in order (group members and
// applications, then the forwarder). It returns nil after a stop asked for
// by ctx, or the first fatal error: a failed start, a supervised goroutine
// that failed, the forwarder stopping on its own, or a stop that did not
// finish within StopTimeout. Ready is closed once the node is up. Run may be
// called once.
func (n *Node) Run(ctx context.Context) error {
	startCtx, cancel := context.WithTimeout(ctx, StartTimeout)
	err := n.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	close(n.ready)

	var fatal error
	select {
	case <-ctx.Done():
	case <-n.sup.Failed():
		fatal = n.sup.Err()
	case <-n.fwd.Done():
		fatal = ErrForwarderStopped
	}
	if fatal != nil {
		n.log.Error("stopping after a failure", "err", fatal)
	} else {
		n.log.Info("shutting down")
	}
	done := make(chan error, 1)
	go func() { done <- n.Close() }()
	select {
	case err := <-done:
		return errors.Join(fatal, err)
	case <-time.After(StopTimeout):
		return errors.Join(fatal, fmt.Errorf("node: stop did not finish within %v", StopTimeout))
	}
}

// Ready is closed once Run has started the node.
func (n *Node) Ready() <-chan struct{} { return n.ready }
