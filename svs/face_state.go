package svs

import (
	"errors"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
)

// ErrFaceDown is returned by Publish and SetSeq while the member's face is
// down (between its OnDown and its next OnUp): a sequence number taken then
// would be announced to no one. Nothing is published; try again once the
// face is back (a reconnecting face such as the client package's fires
// OnUp when it is).
var ErrFaceDown = errors.New("svs: face down")

// watchFace follows the member's face from Run: OnDown marks it down, so
// that publications are refused; OnUp marks it up and wakes Run, which
// registers its route prefix again and announces the vector (faceUp). The
// face is taken to be up when Run starts. It returns the function that
// detaches both callbacks. Called on the Run goroutine; the callbacks run
// on the face's goroutine and never block.
func (s *Sync) watchFace() (cancel func()) {
	f := s.face
	if f == nil {
		return func() {}
	}
	cancelDown := f.OnDown(func() { s.faceDown.Store(true) })
	cancelUp := f.OnUp(func() {
		s.faceDown.Store(false)
		select {
		case s.up <- struct{}{}:
		default:
		}
	})
	return func() { cancelDown(); cancelUp() }
}

// refuseDown answers r with ErrFaceDown, and reports true, when the face is
// down. On the Run goroutine.
func (s *Sync) refuseDown(r *request) bool {
	if !s.faceDown.Load() {
		return false
	}
	r.reply <- result{err: ErrFaceDown}
	return true
}

// faceUp runs on the Run goroutine when the face has come back: the
// forwarder on the other side may have restarted and lost the member's
// route, so Register is called again (a failure is logged: the face may go
// down again at once, and the next OnUp retries), and the vector is
// announced so that the group learns what was published before the face
// went down, and the member what the group published meanwhile.
func (s *Sync) faceUp() {
	routes := []enc.Name{s.route.Clone()}
	if s.data != nil {
		routes = append(routes, s.dataRoutes()...)
	}
	for _, p := range routes {
		if err := s.register(p); err != nil {
			s.log.Warn("svs: register again after the face came back", "prefix", p.String(), "err", fmt.Errorf("svs: %w", err))
		}
	}
	s.handle(s.eng.Announce(s.now()), nil, result{}, SentAnnounce)
}
