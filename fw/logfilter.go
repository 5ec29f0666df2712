package fw

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	ndnlog "github.com/named-data/ndnd/std/log"
)

// ndnd counts neither malformed frames nor lost packets; it only logs them,
// once per packet, at levels from DEBUG (no route, a full face queue) to
// ERROR (a full forwarding-thread queue). A peer sending garbage could flood
// the log, and the node's default WARN level would hide most losses. The
// forwarder's log writer is therefore wrapped (logFilter):
//
//   - ndnd's logger runs at INFO (lossLogLevel), or lower if configured
//     so; every other line under the configured ForwarderLogLevel is
//     dropped here, as ndnd would have;
//   - malformed frames and lost packets are counted (Counters) and passed
//     on to ForwarderLogWriter only when ForwarderLogLevel is DEBUG or
//     lower;
//   - lost packets are logged on the node's logger (Config.Logger) at
//     WARN, at most once per reason per logEvery, with the number of
//     events since the previous line.
//
// ndnd's logger is not run at DEBUG unless configured so: ndnd then looks up
// the caller of, and builds, every DEBUG line before any filter can drop
// it (about 3 µs per line, BenchmarkLogFilter), and DEBUG lines are not
// rare on the packet path: in a group of 20 members on one forwarder,
// every publication's fetches logged about 14 "Suppressed Interest" (each
// Interest aggregated by the multicast strategy) and 6 "Unsolicited data",
// all on the one forwarding thread that owns the publication's name, and
// publish-to-delivered took 12 % longer (ndnsvs-bench pub, 20 members). A
// neighbour's Interests for names this node does not route cost a DEBUG
// line each too. The price: the losses ndnd logs only at DEBUG (its
// strategies' Interests with no route, a full send queue of ndnd's own
// link service, which the node's faces do not use) are counted only when
// ForwarderLogLevel is DEBUG.

// lossLogLevel is the lowest level of a message counted here unless the
// forwarder's log is configured lower.
const lossLogLevel = slog.LevelInfo

// logEvery is how often each reason of loss may be logged at WARN.
const logEvery = 10 * time.Second

// lossReason is why ndnd dropped a packet.
type lossReason int

const (
	lossNone lossReason = iota
	lossMalformed
	lossOverMTU
	lossNoRoute
	lossFwQueue
	lossFaceQueue
	numLossReasons
)

var lossNames = [numLossReasons]string{
	lossMalformed: "malformed",
	lossOverMTU:   "over MTU",
	lossNoRoute:   "no route",
	lossFwQueue:   "forwarding queue full",
	lossFaceQueue: "face queue full",
}

// logEvents counts what ndnd reports only in its log.
type logEvents struct {
	malformed  atomic.Uint64
	queueDrops atomic.Uint64 // full forwarding-thread queue
	overMTU    atomic.Uint64
	noRoute    atomic.Uint64
	faceQueue  atomic.Uint64
}

func (e *logEvents) counter(r lossReason) *atomic.Uint64 {
	switch r {
	case lossMalformed:
		return &e.malformed
	case lossOverMTU:
		return &e.overMTU
	case lossNoRoute:
		return &e.noRoute
	case lossFwQueue:
		return &e.queueDrops
	case lossFaceQueue:
		return &e.faceQueue
	}
	return nil
}

// ndndMessages are the exact messages ndnd v1.5.3 logs for a packet it
// cannot parse or accept, or drops (file and level in ndnd's fw/).
var ndndMessages = map[string]lossReason{
	// face/ndnlp-link-service.go, face/*-transport.go
	"Unable to decode incoming frame":                                                 lossMalformed, // ERROR
	"Received packet of unknown type":                                                 lossMalformed,
	"Received NDNLPv2 frame with fragmentation fields but reassembly disabled - DROP": lossMalformed, // WARN
	"Received fragment count does not match expected count":                           lossMalformed,
	"Received fragment index out of range":                                            lossMalformed,
	"Invalid PIT token attached to Data packet":                                       lossMalformed,

	// A frame over the face's MTU: every transport's sendFrame (WARN;
	// ERROR for unicast UDP), the NDNLP link service without
	// fragmentation (INFO), the internal transport (WARN).
	"Attempted to send frame larger than MTU":                               lossOverMTU,
	"Attempted to send frame over MTU on link without fragmentation - DROP": lossOverMTU,
	"Caller trying to send too much data":                                   lossOverMTU,

	// No route: fw/bestroute.go, fw/multicast.go (DEBUG), fw/thread.go
	// (INFO for NextHopFaceId, ERROR for a face that went away).
	"No nexthop found - DROP":                                   lossNoRoute,
	"No usable nexthop for Interest - DROP":                     lossNoRoute,
	"No nexthop for Interest":                                   lossNoRoute,
	"Non-existent face specified in NextHopFaceId for Interest": lossNoRoute,
	"Non-existent nexthop":                                      lossNoRoute,
	"Non-existent nexthop for Data":                             lossNoRoute,

	// Full queues: fw/thread.go (ERROR), face/link-service.go (DEBUG).
	"Interest dropped due to full queue": lossFwQueue,
	"Data dropped due to full queue":     lossFwQueue,
	"Dropped packet due to congestion":   lossFaceQueue,
}

// logFilter is the io.Writer ndnd's forwarder logger writes to; each Write
// is one log record, text or JSON.
type logFilter struct {
	w     io.Writer
	level slog.Level // the configured ForwarderLogLevel
	sink  *lossSink
}

func newLogFilter(w io.Writer, level slog.Level, sink *lossSink) *logFilter {
	return &logFilter{w: w, level: level, sink: sink}
}

// newForwarderLog makes ndnd's forwarder logger: text, or JSON, on w.
//
// ndnd's Logger can only be built on an io.Writer, which would make ndnd
// format every DEBUG line before the filter could drop it (about 3 µs of
// CPU per line, measured by BenchmarkLogFilter). So the slog.Logger inside
// ndnd's Logger is replaced with one whose handler (lossHandler) sees each
// record's level and message before anything is formatted. The field is
// unexported: it is found by name and type, and if ndnd's layout is not the
// expected one the writer filter (logFilter) is used instead, at its cost.
func newForwarderLog(w io.Writer, json bool, level slog.Level, sink *lossSink) *ndnlog.Logger {
	var l *ndnlog.Logger
	opts := &slog.HandlerOptions{Level: slog.Level(ndnlog.LevelTrace), ReplaceAttr: ndndLevelNames}
	var next slog.Handler
	if json {
		l, next = ndnlog.NewJson(w), slog.NewJSONHandler(w, opts)
	} else {
		l, next = ndnlog.NewText(w), slog.NewTextHandler(w, opts)
	}
	h := &lossHandler{next: next, level: level, sink: sink}
	if !setSlog(l, slog.New(h)) {
		f := newLogFilter(w, level, sink)
		if json {
			l = ndnlog.NewJson(f)
		} else {
			l = ndnlog.NewText(f)
		}
	}
	l.SetLevel(ndndLevel(level))
	return l
}

// setSlog replaces the slog.Logger of ndnd's Logger (v1.5.3: the field
// slog *slog.Logger), reporting whether it could.
func setSlog(l *ndnlog.Logger, s *slog.Logger) bool {
	v := reflect.ValueOf(l).Elem()
	fv := v.FieldByName("slog")
	if !fv.IsValid() || fv.Type() != reflect.TypeFor[*slog.Logger]() {
		return false
	}
	*(**slog.Logger)(unsafe.Pointer(fv.UnsafeAddr())) = s
	return true
}

// ndndLevelNames writes levels as ndnd's std/log does (TRACE, FATAL).
func ndndLevelNames(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(ndnlog.Level(l).String())
		}
	}
	return a
}

// lossHandler is the slog.Handler under ndnd's forwarder logger: it counts
// and reports losses as logFilter does, from the record's fields, and
// formats only the records at or above the configured level.
type lossHandler struct {
	next  slog.Handler
	level slog.Level
	sink  *lossSink
}

func (h *lossHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= min(h.level, lossLogLevel)
}

func (h *lossHandler) Handle(ctx context.Context, r slog.Record) error {
	if reason := ndndMessages[r.Message]; reason != lossNone {
		h.sink.event(reason, r.Message)
		if h.level > slog.LevelDebug {
			return nil
		}
	}
	if r.Level < h.level {
		return nil
	}
	if h.level > slog.LevelDebug {
		// ndnd adds its caller to every line when it runs at DEBUG; at
		// the configured level it would not have.
		out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != slog.SourceKey {
				out.AddAttrs(a)
			}
			return true
		})
		r = out
	}
	return h.next.Handle(ctx, r)
}

func (h *lossHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	return &c
}

func (h *lossHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// lossSink is where counted events go: the counters, and the node's
// logger (nil: not logged) through a rate limiter.
type lossSink struct {
	ev    *logEvents
	log   *slog.Logger
	limit *rateLimiter
}

func newLossSink(ev *logEvents, lg *slog.Logger) *lossSink {
	return &lossSink{ev: ev, log: lg, limit: newRateLimiter(logEvery)}
}

// event counts an event, and logs a loss at WARN unless one of the same
// reason was logged less than logEvery ago.
// multicastAlone is what ndnd's multicast strategy logs when an Interest
// has no face to go to but the one it came from: on a sync group's prefix,
// a member alone in its group (a node with no neighbour yet). It is counted
// with the lost packets but not warned about: nobody waits for a Sync
// Interest, and a lone node would otherwise warn of losses from its first
// second.
const multicastAlone = "No nexthop for Interest"

func (s *lossSink) event(r lossReason, msg string) {
	s.ev.counter(r).Add(1)
	if r == lossMalformed || s.log == nil || msg == multicastAlone {
		return
	}
	if ok, suppressed := s.limit.allowReason(r); ok {
		s.log.Warn("packets lost", "reason", lossNames[r], "ndnd", msg, "suppressed", suppressed)
	}
}

// ndndLevel is the level to run ndnd's logger at for a configured level.
func ndndLevel(configured slog.Level) ndnlog.Level {
	return ndnlog.Level(min(configured, lossLogLevel))
}

func (f *logFilter) Write(p []byte) (int, error) {
	level, levelOK := recordLevel(p)
	msg := recordMessage(p)
	if r := ndndMessages[string(msg)]; r != lossNone {
		f.sink.event(r, string(msg))
		if f.level > slog.LevelDebug {
			return len(p), nil
		}
	}
	if levelOK && level < f.level {
		return len(p), nil
	}
	return f.w.Write(p)
}

// Level names as ndnd's std/log writes them.
var levelNames = []struct {
	name  []byte
	level slog.Level
}{
	{[]byte("TRACE"), slog.Level(ndnlog.LevelTrace)},
	{[]byte("DEBUG"), slog.LevelDebug},
	{[]byte("INFO"), slog.LevelInfo},
	{[]byte("WARN"), slog.LevelWarn},
	{[]byte("ERROR"), slog.LevelError},
	{[]byte("FATAL"), slog.Level(ndnlog.LevelFatal)},
}

var (
	textLevel = []byte(" level=")
	jsonLevel = []byte(`"level":"`)
	textMsg   = []byte(" msg=")
	jsonMsg   = []byte(`"msg":"`)
)

// recordLevel finds the level of a text or JSON record. Both handlers
// write the time, the level and the message first, so the first match is
// the record's own, not one inside a value.
func recordLevel(p []byte) (slog.Level, bool) {
	key := textLevel
	if len(p) > 0 && p[0] == '{' {
		key = jsonLevel
	}
	i := bytes.Index(p, key)
	if i < 0 {
		return 0, false
	}
	rest := p[i+len(key):]
	for _, l := range levelNames {
		if bytes.HasPrefix(rest, l.name) {
			return l.level, true
		}
	}
	return 0, false
}

// recordMessage finds the message of a text or JSON record, without its
// quotes. ndnd's messages contain no quote or backslash.
func recordMessage(p []byte) []byte {
	if len(p) > 0 && p[0] == '{' {
		if i := bytes.Index(p, jsonMsg); i >= 0 {
			rest := p[i+len(jsonMsg):]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				return rest[:j]
			}
		}
		return nil
	}
	i := bytes.Index(p, textMsg)
	if i < 0 {
		return nil
	}
	rest := p[i+len(textMsg):]
	if len(rest) > 0 && rest[0] == '"' {
		rest = rest[1:]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
		return nil
	}
	if j := bytes.IndexAny(rest, " \n"); j >= 0 {
		return rest[:j]
	}
	return rest
}

// rateLimiter lets an event of each kind through at most once per period
// and counts the ones it holds back. Safe for concurrent use.
type rateLimiter struct {
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	reasons [numLossReasons]rateEntry
	keys    map[string]*rateEntry
}

type rateEntry struct {
	last       time.Time
	suppressed uint64
}

// maxRateKeys bounds the keys a rateLimiter remembers; past it, old keys
// are forgotten (and may log again early).
const maxRateKeys = 256

func newRateLimiter(every time.Duration) *rateLimiter {
	return &rateLimiter{every: every, now: time.Now, keys: make(map[string]*rateEntry)}
}

// allow reports whether an event of key may be logged now, and how many
// were held back since the last one that was.
func (r *rateLimiter) allow(key string) (bool, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.keys[key]
	if e == nil {
		if len(r.keys) >= maxRateKeys {
			clear(r.keys)
		}
		e = &rateEntry{}
		r.keys[key] = e
	}
	return r.allowLocked(e)
}

func (r *rateLimiter) allowReason(reason lossReason) (bool, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.allowLocked(&r.reasons[reason])
}

func (r *rateLimiter) allowLocked(e *rateEntry) (bool, uint64) {
	now := r.now()
	if !e.last.IsZero() && now.Sub(e.last) < r.every {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return true, n
}
