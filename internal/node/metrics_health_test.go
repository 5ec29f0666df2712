package node

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fakeFwd is the forwarder's life as health reads it.
type fakeFwd struct{ ready, done chan struct{} }

func (f fakeFwd) Ready() <-chan struct{} { return f.ready }
func (f fakeFwd) Done() <-chan struct{}  { return f.done }

func probe(t *testing.T, h http.HandlerFunc) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("a probe's answer may be cached")
	}
	return rec.Code, string(b)
}

// /readyz waits for the forwarder and every group; /healthz fails only when
// the node is stopping: its forwarder stopped, or a supervised job failed.
func TestHealthProbes(t *testing.T) {
	f := fakeFwd{ready: make(chan struct{}), done: make(chan struct{})}
	sup := newSupervisor()
	defer sup.Stop()
	h := health{fwd: f, sup: sup, want: 1}

	if code, body := probe(t, h.readyz); code != http.StatusServiceUnavailable || body != "forwarder not started\n0 of 1 groups started\n" {
		t.Errorf("/readyz before start: %d %q", code, body)
	}
	if code, body := probe(t, h.healthz); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz while starting: %d %q", code, body)
	}
	close(f.ready)
	h.want = 0
	if code, body := probe(t, h.readyz); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz once up: %d %q", code, body)
	}

	sup.Go("job", func(context.Context) error { return errors.New("boom") })
	<-sup.Failed()
	if code, body := probe(t, h.healthz); code != http.StatusServiceUnavailable || body != "failed: node: job: boom\n" {
		t.Errorf("/healthz after a failure: %d %q", code, body)
	}
	close(f.done)
	if code, body := probe(t, h.readyz); code != http.StatusServiceUnavailable || body != "forwarder stopped\nfailed: node: job: boom\n" {
		t.Errorf("/readyz after the forwarder stopped: %d %q", code, body)
	}
}
