package fw

import (
	"bytes"
	"io"
	"sync/atomic"
)

// ndnd counts neither malformed frames nor packets dropped on a full
// forwarding-thread queue; it only logs them, at ERROR, once per packet. A
// peer sending garbage could flood the log. The forwarder's log writer is
// therefore wrapped: these lines are counted (Counters reports them) and
// passed on only when the forwarder's log level is debug, as a malformed
// packet is not the operator's error.

// logEvents counts what ndnd reports only in its log.
type logEvents struct {
	malformed  atomic.Uint64
	queueDrops atomic.Uint64
}

// Messages ndnd v1.5.3 logs for a packet it cannot parse or accept.
var malformedMessages = [][]byte{
	[]byte("Unable to decode incoming frame"),
	[]byte("Received packet of unknown type"),
	[]byte("Received NDNLPv2 frame with fragmentation fields but reassembly disabled"),
	[]byte("Received fragment count does not match expected count"),
	[]byte("Received fragment index out of range"),
	[]byte("Invalid PIT token attached to Data packet"),
	[]byte("Attempted to send frame larger than MTU"),
}

// Messages ndnd v1.5.3 logs for a packet dropped on a full queue.
var queueDropMessages = [][]byte{
	[]byte("Interest dropped due to full queue"),
	[]byte("Data dropped due to full queue"),
}

// logFilter is the io.Writer ndnd's forwarder logger writes to; each Write
// is one log record.
type logFilter struct {
	w       io.Writer
	verbose bool // pass counted lines on (forwarder level debug or lower)
	ev      *logEvents
}

func (f *logFilter) Write(p []byte) (int, error) {
	if containsAny(p, malformedMessages) {
		f.ev.malformed.Add(1)
		if !f.verbose {
			return len(p), nil
		}
	} else if containsAny(p, queueDropMessages) {
		f.ev.queueDrops.Add(1)
		if !f.verbose {
			return len(p), nil
		}
	}
	return f.w.Write(p)
}

func containsAny(p []byte, msgs [][]byte) bool {
	for _, m := range msgs {
		if bytes.Contains(p, m) {
			return true
		}
	}
	return false
}
