package security

import (
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// The certificate cache holds only trusted certificates: anchors, the
// node's own chain, and fetched certificates whose chain validated. Each
// is indexed under its full name, its name minus version and its key
// name, the three forms a KeyLocator takes (ndnd's Suggest uses the
// second, a raw keychain signer the third). All methods ending in Locked
// need t.mu.

// appendKey appends the TLV of n's components to dst: the map key of n.
// Built in a caller's buffer so that a lookup does not allocate.
func appendKey(dst []byte, n enc.Name) []byte {
	for _, c := range n {
		l := c.EncodingLength()
		off := len(dst)
		if cap(dst)-off < l {
			nd := make([]byte, off, 2*cap(dst)+l)
			copy(nd, dst)
			dst = nd
		}
		dst = dst[:off+l]
		c.EncodeInto(dst[off:])
	}
	return dst
}

// nameKey returns the map key of n as a string (allocates).
func nameKey(n enc.Name) string {
	var buf [128]byte
	return string(appendKey(buf[:0], n))
}

// lookupLocked returns the trusted certificate loc names, or nil.
func (t *Trust) lookupLocked(loc enc.Name) *cert {
	var buf [256]byte
	return t.certs[string(appendKey(buf[:0], loc))]
}

// index adds c under its three names. A name already held by an anchor or
// the node's own chain keeps it.
func (t *Trust) index(c *cert) {
	for _, n := range [...]enc.Name{c.name, c.name.Prefix(-1), c.name.Prefix(-2)} {
		k := nameKey(n)
		if old := t.certs[k]; old != nil && old != c && (old.anchor || old.own) && !(c.anchor || c.own) {
			continue
		}
		t.certs[k] = c
	}
}

// unindexLocked removes c from the names that still point to it.
func (t *Trust) unindexLocked(c *cert) {
	for _, n := range [...]enc.Name{c.name, c.name.Prefix(-1), c.name.Prefix(-2)} {
		k := nameKey(n)
		if t.certs[k] == c {
			delete(t.certs, k)
		}
	}
}

// insertLocked adds a validated fetched certificate, evicting the oldest
// fetched ones beyond MaxCerts.
func (t *Trust) insertLocked(c *cert) {
	if old := t.certs[nameKey(c.name)]; old != nil {
		if old.anchor || old.own {
			return
		}
		t.removeLocked(old)
	}
	t.index(c)
	c.elem = t.order.PushBack(c)
	t.fetched++
	for t.fetched > t.cfg.MaxCerts {
		t.removeLocked(t.order.Front().Value.(*cert))
	}
}

// removeLocked drops a fetched certificate.
func (t *Trust) removeLocked(c *cert) {
	if c.elem == nil {
		return
	}
	t.unindexLocked(c)
	t.order.Remove(c.elem)
	c.elem = nil
	t.fetched--
}

// intersect returns c's validity window within its issuer's effective
// one: a certificate is never trusted beyond the chain that vouches for
// it.
func intersect(c, issuer *cert) (time.Time, time.Time) {
	nb, na := c.notBefore, c.notAfter
	if issuer.effBefore.After(nb) {
		nb = issuer.effBefore
	}
	if issuer.effAfter.Before(na) {
		na = issuer.effAfter
	}
	return nb, na
}

// negEntry is a certificate name refused until a time, with the refusal.
// fails counts consecutive fetches of the name that went unanswered: an
// entry with fails > 0 outlives its refusal, so that the next failure
// backs off further.
type negEntry struct {
	rej   *RejectError
	until time.Time
	seq   uint64
	fails int
}

// unansweredTTL is how long a certificate name whose fetch went unanswered
// (a timeout, a Nack) is first refused: its holder may simply not be up
// yet, as when a group starts at once. Each further unanswered fetch
// doubles it, up to NegativeTTL.
const unansweredTTL = time.Second

type negKey struct {
	key string
	seq uint64
}

// maxNegative bounds the negative cache: each entry costs a name, and a
// flood of invented names must not grow memory without bound.
func (t *Trust) maxNegative() int { return 4 * t.cfg.MaxCerts }

// addNegativeLocked refuses key until NegativeTTL from now or, for a
// fetch that went unanswered, for unansweredTTL doubled per consecutive
// unanswered fetch, at most NegativeTTL.
func (t *Trust) addNegativeLocked(key string, rej *RejectError, unanswered bool, now time.Time) {
	t.negSeq++
	e := negEntry{rej: rej, until: now.Add(t.cfg.NegativeTTL), seq: t.negSeq}
	if unanswered {
		e.fails = t.negative[key].fails + 1
		ttl := unansweredTTL << min(e.fails-1, 16)
		if ttl > t.cfg.NegativeTTL {
			ttl = t.cfg.NegativeTTL
		}
		e.until = now.Add(ttl)
	}
	t.negative[key] = e
	t.negOrder = append(t.negOrder, negKey{key, t.negSeq})
	for len(t.negative) > t.maxNegative() && len(t.negOrder) > 0 {
		old := t.negOrder[0]
		t.negOrder = t.negOrder[1:]
		if e, ok := t.negative[old.key]; ok && e.seq == old.seq {
			delete(t.negative, old.key)
		}
	}
	// Drop stale queue entries (superseded or expired keys) so the queue
	// stays within a constant factor of the map.
	if len(t.negOrder) > 2*t.maxNegative() {
		q := t.negOrder[:0:0]
		for _, o := range t.negOrder {
			if e, ok := t.negative[o.key]; ok && e.seq == o.seq {
				q = append(q, o)
			}
		}
		t.negOrder = q
	}
}

// negativeLocked returns the refusal of key if it is still negatively
// cached.
func (t *Trust) negativeLocked(key string, now time.Time) *RejectError {
	e, ok := t.negative[key]
	if !ok {
		return nil
	}
	if now.After(e.until) {
		if e.fails == 0 {
			delete(t.negative, key)
		}
		return nil
	}
	return e.rej
}
