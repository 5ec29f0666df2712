package client

import "testing"

// FakeNode exposes the fake node to the external tests.
type FakeNode struct{ n *fakeNode }

func NewFakeNodeForTest(t *testing.T) *FakeNode { return &FakeNode{newFakeNode(t)} }
func (f *FakeNode) URI() string                 { return f.n.uri() }
func (f *FakeNode) Stop()                       { f.n.stop() }
func (f *FakeNode) Start()                      { f.n.start() }
func (f *FakeNode) Commands() []string          { return f.n.took() }
