package client

import (
	"os"
	"testing"

	ndnlog "github.com/named-data/ndnd/std/log"
)

// FakeNode exposes the fake node to the external tests.
type FakeNode struct{ n *fakeNode }

func NewFakeNodeForTest(t *testing.T) *FakeNode { return &FakeNode{newFakeNode(t)} }
func (f *FakeNode) URI() string                 { return f.n.uri() }
func (f *FakeNode) Stop()                       { f.n.stop() }
func (f *FakeNode) Start()                      { f.n.start() }
func (f *FakeNode) Commands() []string          { return f.n.took() }

// TestMain quiets ndnd's engine, which logs each send on a down face at
// ERROR and each Interest before a handler is attached at WARN.
func TestMain(m *testing.M) {
	ndnlog.Default().SetLevel(ndnlog.LevelFatal)
	os.Exit(m.Run())
}
