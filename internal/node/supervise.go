package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// supervisor runs the node's long-lived goroutines (group members, the
// memory trimmer, and what later parts of the node add) under one context,
// and remembers the first of them to fail. A goroutine that returns because
// its context was cancelled has not failed.
type supervisor struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	once   sync.Once
	err    error
	failed chan struct{} // closed when err is set
}

func newSupervisor() *supervisor {
	ctx, cancel := context.WithCancel(context.Background())
	return &supervisor{ctx: ctx, cancel: cancel, failed: make(chan struct{})}
}

// Go runs fn in a goroutine of its own. If fn returns an error while the
// supervisor is running, that error (named after what) is the node's fatal
// error, unless another came first.
func (s *supervisor) Go(what string, fn func(ctx context.Context) error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := fn(s.ctx)
		if err == nil || s.ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return
		}
		s.fail(fmt.Errorf("node: %s: %w", what, err))
	}()
}

func (s *supervisor) fail(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.failed)
	})
}

// Failed is closed when a supervised goroutine has failed; Err then says how.
func (s *supervisor) Failed() <-chan struct{} { return s.failed }

// Err returns the first failure, or nil.
func (s *supervisor) Err() error {
	select {
	case <-s.failed:
		return s.err
	default:
		return nil
	}
}

// Stop cancels every supervised goroutine and waits for them to return.
func (s *supervisor) Stop() {
	s.cancel()
	s.wg.Wait()
}
