package svs

import (
	"errors"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine/basic"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// fakeEngine is an ndn.Engine with no face and no forwarder, for tests of
// the driver alone (under testing/synctest): it records the Interests the
// driver expresses with their (bubble) time, and lets the test invoke the
// driver's Interest handler as ndnd's engine goroutine would.
type fakeEngine struct {
	mu           sync.Mutex
	prefix       enc.Name
	handler      ndn.InterestHandler
	registered   []enc.Name
	unregistered []enc.Name
	registerErr  error
	expressErr   error
	sent         []sentInterest
}

type sentInterest struct {
	at   time.Time
	wire []byte
	name enc.Name
	life time.Duration
}

var _ ndn.Engine = (*fakeEngine)(nil)

func (f *fakeEngine) String() string                                                     { return "fake-engine" }
func (f *fakeEngine) EngineTrait() ndn.Engine                                            { return f }
func (f *fakeEngine) Spec() ndn.Spec                                                     { return spec.Spec{} }
func (f *fakeEngine) Timer() ndn.Timer                                                   { return basic.NewTimer() }
func (f *fakeEngine) Face() ndn.Face                                                     { return nil }
func (f *fakeEngine) Start() error                                                       { return nil }
func (f *fakeEngine) Stop() error                                                        { return nil }
func (f *fakeEngine) IsRunning() bool                                                    { return true }
func (f *fakeEngine) Post(task func())                                                   { task() }
func (f *fakeEngine) SetCmdSec(ndn.Signer, func(enc.Name, enc.Wire, ndn.Signature) bool) {}

func (f *fakeEngine) ExecMgmtCmd(string, string, any) (any, error) {
	return nil, errors.New("fake engine: no management")
}

func (f *fakeEngine) AttachHandler(prefix enc.Name, h ndn.InterestHandler) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handler != nil {
		return ndn.ErrMultipleHandlers
	}
	f.prefix, f.handler = prefix.Clone(), h
	return nil
}

func (f *fakeEngine) DetachHandler(prefix enc.Name) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handler == nil || !f.prefix.Equal(prefix) {
		return errors.New("fake engine: no such handler")
	}
	f.handler = nil
	return nil
}

func (f *fakeEngine) Express(i *ndn.EncodedInterest, cb ndn.ExpressCallbackFunc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.expressErr != nil {
		return f.expressErr
	}
	f.sent = append(f.sent, sentInterest{
		at:   time.Now(),
		wire: i.Wire.Join(),
		name: i.FinalName.Clone(),
		life: i.Config.Lifetime.GetOr(0),
	})
	return nil
}

func (f *fakeEngine) RegisterRoute(prefix enc.Name) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registered = append(f.registered, prefix.Clone())
	return f.registerErr
}

func (f *fakeEngine) UnregisterRoute(prefix enc.Name) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unregistered = append(f.unregistered, prefix.Clone())
	return nil
}

// deliver hands pkt to the attached handler, as ndnd's engine does on its
// goroutine; false if no handler is attached.
func (f *fakeEngine) deliver(pkt []byte) bool {
	f.mu.Lock()
	h := f.handler
	f.mu.Unlock()
	if h == nil {
		return false
	}
	// Split the packet in two segments: the driver must not assume one.
	cut := len(pkt) / 2
	h(ndn.InterestHandlerArgs{RawInterest: enc.Wire{pkt[:cut], pkt[cut:]}})
	return true
}

func (f *fakeEngine) sends() []sentInterest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentInterest(nil), f.sent...)
}
