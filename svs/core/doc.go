// Package core is the State Vector Sync v3 protocol engine: a deterministic
// state machine with no I/O, no clock, no goroutines and no global
// randomness. It uses the standard library only.
//
// # Model
//
// After etcd's raft RawNode, an Engine takes events and hands back one Ready
// batch per event:
//
//	Publish(now)             a local publication: seq++ under (Self, Boot)
//	SetSeq(now, seq)         the same, with a sequence number chosen by the caller
//	Announce(now)            send the local vector now (start-up, face up)
//	Receive(now, wall, v)    a state vector decoded from a Sync Interest
//	Tick(now)                time passed; fires the timer if now ≥ deadline
//
// Ready says what to do, in this order: Persist (the state vector changed),
// Updates (new sequence-number ranges for the application), Send (a state
// vector to put in a Sync Interest) and Deadline (when to call Tick next).
// Everything in a Ready belongs to the caller.
//
// Time is a monotonic time.Duration since an origin the caller picks; the
// engine never reads a clock. Only the rule that ignores vectors with
// bootstrap times far in the future needs the wall clock, so Receive takes it
// as Unix seconds. Randomness (timer jitter, suppression delays) comes from
// Config.Rand, so a seeded run replays exactly.
//
// # Threading
//
// An Engine is not safe for concurrent use; one goroutine owns it. A Vector
// is not safe for concurrent use either; the pure functions (Merge,
// Outdated, Diff, Equal, Jitter, SuppressionTimeout) only read their
// arguments.
//
// # Driving it
//
// A driver owns one Engine and runs one loop:
//
//	e, err := core.New(cfg, now())
//	handle(e.Announce(now()))
//	for {
//		select {
//		case v := <-inbound:   handle(e.Receive(now(), time.Now().Unix(), v))
//		case <-publish:        _, rd, err := e.Publish(now()); handle(rd)
//		case <-timer.C:        handle(e.Tick(now()))
//		}
//		timer.Reset(deadline - now())
//	}
//
// where handle persists rd.Persist, delivers rd.Updates in order, sends
// rd.Send and remembers rd.Deadline.
//
// # Protocol
//
// The state machine follows the text of the SVS specification §4.5 (see
// docs/engine.md for the diagram, each rule's test and the differences from
// ndnd, NDNts and ndn-svs). In short: in Steady state a vector that is not
// outdated is applied and pushes the periodic timer back, which is what keeps
// a quiet group at about one Sync Interest per PeriodicTimeout in total; an
// outdated vector moves the engine to Suppression, where it aggregates what
// others send and answers after SuppressionTimeout only if nobody covered
// its state first.
//
// # Bounds
//
// The vector is bounded whatever others send (docs/engine.md): a node keeps
// its newest incarnation and, for Config.SupersededGrace after it last
// changed, the one before (Retain); what is sent stays under
// Config.MaxVectorBytes (VectorSize), the own pair first, so a member never
// goes silent; and new node names enter at Config.AdmitRate into at most
// Config.MaxMembers, evicting names that never changed. Without trust a fake
// name cannot be told from a real one: these bound the damage of a flood,
// they do not stop it (docs/decisions.md).
package core
