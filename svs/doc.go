// Package svs runs a member of a State Vector Sync v3 group on an NDN
// engine: the driver around the pure protocol engine of svs/core, with the
// wire codec of svs/wire.
//
// It works on any ndnd std ndn.Engine (New): engine.NewBasicEngine over
// this project's in-process face (fw.Forwarder.NewFace), or over a unix
// socket to an external forwarder. Or it runs on a bare ndn.Face of its own
// with no engine (NewOnFace), reading and writing the frames itself; on an
// in-process face that saves two goroutine hand-offs and a parse per
// received packet, and it is how the node runs its members.
//
//	s, err := svs.New(eng, svs.Config{
//		Group:    group,              // Sync Interests: /<group>/v=3/<digest>
//		Node:     node,               // our entry in the state vector
//		OnUpdate: func(u svs.Update) { /* fetch u.Low..u.High of u.Node */ },
//		Register: func(p enc.Name) error { return fwd.AddRoute(p, face.FaceID(), 0, fw.OriginApp) }, // p is /<group>; nil: the engine registers it
//	})
//	go s.Run(ctx)                   // blocks until ctx ends or Close
//	seq, err := s.PublishSeq(ctx)   // one Sync Interest, at once
//
// # Goroutines
//
// Run is the only goroutine of a Sync, and it owns the protocol engine. It
// selects over: received Sync Interests, publication requests (Publish,
// SetSeq), one timer set to the engine's next deadline, the face coming
// back up, and ctx. Every other method may be called from any goroutine.
//
// The Interest handler Run attaches on SyncPrefix runs on ndnd's engine
// goroutine (on a bare face, the frame receiver runs on the face's
// goroutine, or on the forwarding thread for an fw.Face). It never blocks: it copies the packet into a recycled buffer
// and hands it to Run through a channel of Config.InboxSize, dropping (and
// counting, Stats.InboxDropped) what does not fit. Decoding, validation and
// the protocol all happen on Run's goroutine, once per packet.
//
// Sync Interests are expressed by Run itself with ndn.Engine.Express and a
// callback that ignores the result (they are never answered), or sent with
// the bare face's Send, 1 s lifetime, no goroutine per send.
//
// OnUpdate and OnPersist are called by Run, in order, outside any lock and
// with no engine state held. A slow callback slows the member down: nothing
// is received or sent meanwhile, and received Sync Interests pile up in the
// inbox. A callback must not call Publish, SetSeq or Run (deadlock); it may
// call Close, State, Seq and Stats.
//
// # Ownership
//
// New copies the Config (except Rand, which it keeps). The vectors given to
// OnPersist are shared with State's snapshot and must not be modified;
// State returns a copy. Update values are plain data.
//
// # Errors and bad input
//
// Constructors return errors wrapping ErrInvalidConfig (or the codec's or
// engine's error), never panic. Malformed, invalid and far-future Sync
// Interests change nothing but a counter (Stats) and a debug log line.
//
// # Bounds
//
// Every Sync Interest fits Config.MaxSyncInterestSize (8800 bytes): a
// larger state vector is sent in part, own entry first, never refused. The
// vector holds at most Config.MaxMembers names, admitted at a bounded pace,
// and prunes incarnations superseded by a newer bootstrap time after
// Config.SupersededGrace. Partial vectors, refused names and a newer
// incarnation of this member's own name are logged at WARN (ERROR for the
// last) at most once per WarnInterval, with counts in Stats.Engine. See
// docs/engine.md and docs/decisions.md.
//
// See docs/svs-driver.md for the packet flows, the measurements against
// ndnd's SvSync and the tests.
package svs
