package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
)

// StatusError is a management command the node answered with a status
// other than 200 (NFD's ControlResponse).
type StatusError struct {
	Command string // e.g. "rib/register"
	Prefix  enc.Name
	Code    uint64
	Text    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("client: %s %s: status %d %s", e.Command, e.Prefix, e.Code, e.Text)
}

// ErrNoAnswer: a management command got no answer within
// Config.CommandTimeout, or a Nack.
var ErrNoAnswer = errors.New("client: no answer to management command")

// Register routes prefix to this face: it sends an NFD rib/register command
// (/localhost/nfd/rib/register on a unix socket, /localhop/nfd/rib/register
// on TCP, signed like ndnd's engine signs them) and waits for the answer,
// at most Config.CommandTimeout; a command with no answer is sent again,
// up to Config.RegisterAttempts in all (a node too busy to answer in time,
// a command dropped from a full queue). The prefix is also kept, and registered
// again at every reconnection, before OnUp (failures then go to
// OnRegisterError). While the face is down, the prefix is kept and the
// error wraps ErrDown; a refusal is a *StatusError; no answer is
// ErrNoAnswer. Safe for concurrent use, from any goroutine but the
// OnPacket callback's (the answer is read there). It has the signature of
// svs.Config.Register.
func (f *Face) Register(prefix enc.Name) error {
	return f.register(route{name: prefix.Clone()})
}

// RegisterCapture registers prefix as Register does, with NFD's Capture
// flag and without ChildInherit: Interests under prefix come to this face
// alone, not also to the faces of shorter prefixes' routes. It has the
// signature of svs.DataConfig.RegisterOwn, whose routes want it.
func (f *Face) RegisterCapture(prefix enc.Name) error {
	return f.register(route{name: prefix.Clone(), capture: true})
}

// route is a registration kept across reconnections.
type route struct {
	name    enc.Name
	capture bool
}

func (f *Face) register(r route) error {
	f.mu.Lock()
	if f.state == StateClosed {
		f.mu.Unlock()
		return ErrClosed
	}
	known := false
	for i, o := range f.routes {
		if o.name.Equal(r.name) {
			f.routes[i], known = r, true
			break
		}
	}
	if !known {
		f.routes = append(f.routes, r)
	}
	c := f.cur
	f.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%w: %s will be registered when connected", ErrDown, r.name)
	}
	// Any goroutine may be here: the jitter is math/rand's, not the
	// connection goroutine's generator.
	return f.attempts(c, "register", r, rand.Float64, func(err error) bool { return errors.Is(err, ErrNoAnswer) })
}

// Unregister stops routing prefix to this face: it forgets the prefix and,
// when connected, sends rib/unregister and waits for the answer. Errors as
// Register. Safe for concurrent use.
func (f *Face) Unregister(prefix enc.Name) error {
	f.mu.Lock()
	if f.state == StateClosed {
		f.mu.Unlock()
		return ErrClosed
	}
	for i, r := range f.routes {
		if r.name.Equal(prefix) {
			f.routes = append(f.routes[:i:i], f.routes[i+1:]...)
			break
		}
	}
	c := f.cur
	f.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%w: %s not unregistered", ErrDown, prefix)
	}
	return f.command(c, "unregister", route{name: prefix})
}

// Routes returns a copy of the prefixes registered at every connection.
func (f *Face) Routes() []enc.Name {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]enc.Name, len(f.routes))
	for i, r := range f.routes {
		out[i] = r.name.Clone()
	}
	return out
}

// registerAll registers every kept route on the new connection c, each up
// to RegisterAttempts times (a node that has just started may not answer
// management yet). On the connection goroutine.
func (f *Face) registerAll(c *conn) {
	f.mu.Lock()
	routes := slices.Clone(f.routes)
	f.mu.Unlock()
	for _, r := range routes {
		prefix := r.name
		// Any failure is tried again here: a node that has just started
		// may refuse before it answers.
		err := f.attempts(c, "register", r, f.rng.Float64, func(error) bool { return true })
		switch {
		case err == nil:
		case errors.Is(err, ErrDown), errors.Is(err, ErrClosed):
			return // the connection is gone: the next one registers all
		default:
			f.regFailures.Add(1)
			f.log.Warn("client: route not registered", "prefix", prefix.String(), "err", err)
			if f.cfg.OnRegisterError != nil {
				f.cfg.OnRegisterError(prefix, err)
			}
		}
	}
}

// attempts sends the rib command verb for r on c, and again while it fails
// with an error again accepts, up to RegisterAttempts times with a backoff
// between (jittered by jitter, a number in [0, 1)); a lost connection or
// the face's closing ends it at once.
func (f *Face) attempts(c *conn, verb string, r route, jitter func() float64, again func(error) bool) error {
	var err error
	for attempt := 0; attempt < f.cfg.RegisterAttempts; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff(attempt-1, f.cfg.MinBackoff, f.cfg.MaxBackoff, jitter()))
			select {
			case <-t.C:
			case <-c.gone:
			case <-f.closing:
			}
			t.Stop()
		}
		err = f.command(c, verb, r)
		if err == nil || errors.Is(err, ErrDown) || errors.Is(err, ErrClosed) || !again(err) {
			return err
		}
	}
	return err
}

// command sends the rib command verb for r on c and waits for its
// answer.
func (f *Face) command(c *conn, verb string, r route) error {
	prefix := r.name
	what := "rib/" + verb
	var nonce [8]byte
	binary.BigEndian.PutUint64(nonce[:], f.cmds.nonce())
	cfg := &ndn.InterestConfig{
		Lifetime:    optional.Some(f.cfg.CommandTimeout),
		Nonce:       utils.ConvertNonce(nonce[4:]),
		MustBeFresh: true,
		SigNonce:    nonce[:],
		SigTime:     optional.Some(time.Duration(time.Now().UnixMilli()) * time.Millisecond),
	}
	mc := mgmt.NewConfig(f.ep.local, sig.NewSha256Signer(), spec.Spec{})
	args := &mgmt.ControlArgs{Name: prefix}
	if r.capture {
		args.Flags = optional.Some(uint64(mgmt.RouteFlagCapture))
	}
	intr, err := mc.MakeCmd("rib", verb, args, cfg)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", what, prefix, err)
	}
	p := f.cmds.add(c, intr.FinalName)
	defer f.cmds.remove(p)
	if err := f.write(c, intr.Wire); err != nil {
		return err
	}
	t := time.NewTimer(f.cfg.CommandTimeout)
	defer t.Stop()
	var a answer
	select {
	case a = <-p.ch:
	case <-t.C:
		return fmt.Errorf("%w: %s %s after %v", ErrNoAnswer, what, prefix, f.cfg.CommandTimeout)
	case <-c.gone:
		return fmt.Errorf("%w: %s %s: connection lost", ErrDown, what, prefix)
	case <-f.closing:
		return ErrClosed
	}
	if a.nack != 0 {
		return fmt.Errorf("%w: %s %s: Nack %d", ErrNoAnswer, what, prefix, a.nack)
	}
	resp, err := mgmt.ParseControlResponse(enc.NewBufferView(a.content), true)
	if err != nil || resp.Val == nil {
		return fmt.Errorf("client: %s %s: bad ControlResponse: %v", what, prefix, err)
	}
	if resp.Val.StatusCode != 200 {
		return &StatusError{Command: what, Prefix: prefix.Clone(), Code: resp.Val.StatusCode, Text: resp.Val.StatusText}
	}
	return nil
}

// cmdTable holds the management commands waiting for an answer. The reader
// consults it only while it is not empty.
type cmdTable struct {
	n       atomic.Int32
	seq     atomic.Uint64
	mu      sync.Mutex
	pending map[uint64]*pendingCmd
}

type pendingCmd struct {
	id   uint64
	c    *conn
	name enc.Name
	ch   chan answer // buffered: the reader never blocks on it
}

type answer struct {
	content []byte // a copy: the frame is the reader's
	nack    uint64
}

func (t *cmdTable) nonce() uint64 {
	return t.seq.Add(1)*0x9e3779b97f4a7c15 ^ uint64(time.Now().UnixNano())
}

func (t *cmdTable) add(c *conn, name enc.Name) *pendingCmd {
	p := &pendingCmd{id: t.seq.Add(1), c: c, name: name, ch: make(chan answer, 1)}
	t.mu.Lock()
	t.pending[p.id] = p
	t.mu.Unlock()
	t.n.Add(1)
	return p
}

func (t *cmdTable) remove(p *pendingCmd) {
	t.mu.Lock()
	if _, ok := t.pending[p.id]; ok {
		delete(t.pending, p.id)
		t.n.Add(-1)
	}
	t.mu.Unlock()
}

func (t *cmdTable) waiting() bool { return t.n.Load() > 0 }

// deliver hands frame to the command it answers, and reports whether it
// did; any other frame is left to OnPacket.
func (t *cmdTable) deliver(frame []byte) bool {
	name, content, nack, ok := parseAnswer(frame)
	if !ok {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, p := range t.pending {
		if (nack == 0 && p.name.IsPrefix(name)) || (nack != 0 && p.name.Equal(name)) {
			delete(t.pending, id)
			t.n.Add(-1)
			p.ch <- answer{content: content, nack: nack}
			return true
		}
	}
	return false
}

// parseAnswer decodes what may answer a command: a Data (its name and a
// copy of its content), or a Nack in an LpPacket (the Interest's name and
// the reason, at least 1). Anything else, malformed included, is !ok.
// ndnpkt keeps ndnd's decoder within the frame's bounds: a frame from a
// broken node cannot make it allocate what the frame only claims, nor
// panic the application.
func parseAnswer(frame []byte) (name enc.Name, content []byte, nack uint64, ok bool) {
	pkt, _, nack, err := ndnpkt.Read(frame)
	if err != nil {
		return nil, nil, 0, false
	}
	switch {
	case nack != 0 && pkt.Interest != nil:
		return pkt.Interest.NameV.Clone(), nil, nack, true
	case nack == 0 && pkt.Data != nil:
		return pkt.Data.NameV.Clone(), append([]byte(nil), pkt.Data.ContentV.Join()...), 0, true
	}
	return nil, nil, 0, false
}
