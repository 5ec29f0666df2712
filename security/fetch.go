package security

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// errFetchTimeout ends a fetch whose Fetcher did not call back within
// Config.FetchTimeout.
var errFetchTimeout = errors.New("security: certificate fetch timed out")

// flight is one certificate fetch under way, shared by every Validate and
// chain step that needs the same KeyLocator (single flight per name).
type flight struct {
	key   string
	name  enc.Name // the KeyLocator fetched (a private copy)
	depth int      // 1 for a packet's signer, +1 per issuer above it
	ready chan struct{}
	pend  *wire.PendingError // returned by every Validate waiting on it

	// Under Trust.mu: Validate calls that got pend, and chain steps to
	// continue when it ends.
	waiters int
	conts   []func(*cert, *RejectError)

	done  atomic.Bool // the first of the Fetcher's answer and the timeout wins
	timer *time.Timer
	// unanswered: the Fetcher reported no answer (set before finish).
	unanswered bool
}

// request returns the trusted certificate loc names if there is one by
// now, or else a refusal (negative cache, no fetcher, limiter), or else
// the fetch of loc, started if need be. cont, if not nil, is called when
// that fetch ends; otherwise the caller is a Validate that will return
// the flight's PendingError.
func (t *Trust) request(loc enc.Name, depth int, cont func(*cert, *RejectError)) (*cert, *flight, *RejectError) {
	var buf [256]byte
	kb := appendKey(buf[:0], loc)
	now := t.cfg.Clock()
	t.mu.Lock()
	if c := t.certs[string(kb)]; c != nil {
		t.mu.Unlock()
		return c, nil, nil
	}
	if rej := t.negativeLocked(string(kb), now); rej != nil {
		t.mu.Unlock()
		return nil, nil, rej
	}
	if fl := t.flights[string(kb)]; fl != nil {
		if cont != nil {
			fl.conts = append(fl.conts, cont)
		} else {
			fl.waiters++
		}
		t.mu.Unlock()
		return nil, fl, nil
	}
	fb := t.fetcher.Load()
	if fb == nil {
		t.mu.Unlock()
		return nil, nil, reject(ReasonUnknownKey, "%s: not known, and no fetcher", loc)
	}
	if len(t.flights) >= t.cfg.MaxFetches {
		t.mu.Unlock()
		t.stats.refused.Add(1)
		return nil, nil, reject(ReasonFetchLimited, "%s: %d fetches already in flight", loc, t.cfg.MaxFetches)
	}
	if !t.takeTokenLocked(now) {
		t.mu.Unlock()
		t.stats.refused.Add(1)
		return nil, nil, reject(ReasonFetchLimited, "%s: fetch rate above %g/s", loc, t.cfg.FetchRate)
	}
	ready := make(chan struct{})
	fl := &flight{
		key:   string(kb),
		name:  loc.Clone(),
		depth: depth,
		ready: ready,
	}
	fl.pend = &wire.PendingError{Ready: ready, Waiting: fl.name.String()}
	if cont != nil {
		fl.conts = append(fl.conts, cont)
	} else {
		fl.waiters++
	}
	t.flights[fl.key] = fl
	t.mu.Unlock()

	t.stats.started.Add(1)
	fl.timer = time.AfterFunc(t.cfg.FetchTimeout, func() { t.fetched1(fl, nil, errFetchTimeout, false) })
	fb.f.FetchCert(fl.name, func(b []byte, err error) { t.fetched1(fl, b, err, true) })
	return nil, fl, nil
}

// takeTokenLocked takes one token from the fetch rate limiter.
func (t *Trust) takeTokenLocked(now time.Time) bool {
	ns := now.UnixNano()
	if d := ns - t.tokensAt; d > 0 {
		t.tokens += float64(d) * t.cfg.FetchRate / 1e9
		if b := float64(t.cfg.FetchBurst); t.tokens > b {
			t.tokens = b
		}
		t.tokensAt = ns
	}
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

// fetched1 takes the first end of a fetch (the Fetcher's answer or the
// timeout) and ignores the other.
func (t *Trust) fetched1(fl *flight, b []byte, err error, fromFetcher bool) {
	if !fl.done.CompareAndSwap(false, true) {
		return
	}
	if fromFetcher {
		fl.timer.Stop()
	}
	if err != nil {
		fl.unanswered = true
		t.finish(fl, nil, reject(ReasonUnknownKey, "fetching %s: %w", fl.name, err))
		return
	}
	c, err := parseCert(b)
	if err != nil {
		t.finish(fl, nil, reject(ReasonBadCertificate, "fetched for %s: %w", fl.name, err))
		return
	}
	// CanBePrefix lets any Data under the name answer; only a certificate
	// of the very key the packet names may.
	if !answers(c.name, fl.name) {
		t.finish(fl, nil, reject(ReasonBadCertificate, "fetched %s does not answer %s", c.name, fl.name))
		return
	}
	if now := t.cfg.Clock(); !c.validAt(now) {
		t.finish(fl, nil, &RejectError{Reason: ReasonExpired, Err: c.expiryError(now)})
		return
	}
	if len(c.issuer) == 0 || !isLocatorName(c.issuer) || !isKeySigType(c.data.Signature().SigType()) {
		t.finish(fl, nil, reject(ReasonBadCertificate, "fetched %s: not signed by a named key", c.name))
		return
	}
	t.chainStep(fl, c)
}

// chainStep validates the fetched certificate c with its issuer: at once
// if the issuer is trusted, else after fetching it (one level deeper).
func (t *Trust) chainStep(fl *flight, c *cert) {
	t.mu.RLock()
	is := t.lookupLocked(c.issuer)
	t.mu.RUnlock()
	if is != nil {
		t.complete(fl, c, is)
		return
	}
	if answers(c.name, c.issuer) {
		t.finish(fl, nil, reject(ReasonUnknownKey, "%s is self-signed and not an anchor", c.name))
		return
	}
	if fl.depth >= t.cfg.MaxChain {
		t.finish(fl, nil, reject(ReasonChainTooLong, "%s: issuer %s is more than %d certificates from a trusted one", fl.name, c.issuer, t.cfg.MaxChain))
		return
	}
	if isCertName(c.issuer) && !schemaCheck(t.cfg.Schema, c.name, c.issuer) {
		t.finish(fl, nil, reject(ReasonSchema, "the schema does not let %s sign %s", c.issuer, c.name))
		return
	}
	is, _, rej := t.request(c.issuer, fl.depth+1, func(is *cert, rej *RejectError) {
		if rej != nil {
			t.finish(fl, nil, &RejectError{Reason: rej.Reason, Err: fmt.Errorf("issuer of %s: %w", c.name, rej)})
			return
		}
		t.complete(fl, c, is)
	})
	switch {
	case rej != nil:
		t.finish(fl, nil, &RejectError{Reason: rej.Reason, Err: fmt.Errorf("issuer of %s: %w", c.name, rej)})
	case is != nil:
		t.complete(fl, c, is)
	}
}

// complete checks the link from the trusted issuer to c and, if it
// holds, trusts c.
func (t *Trust) complete(fl *flight, c, is *cert) {
	now := t.cfg.Clock()
	if !is.effValidAt(now) {
		t.finish(fl, nil, reject(ReasonExpired, "issuer %s of %s is outside its validity (or its chain's)", is.name, c.name))
		return
	}
	if !schemaCheck(t.cfg.Schema, c.name, is.name) {
		t.finish(fl, nil, reject(ReasonSchema, "the schema does not let %s sign %s", is.name, c.name))
		return
	}
	sig := c.data.Signature()
	if !verify(is.pub, sig.SigType(), c.covered, sig.SigValue()) {
		t.finish(fl, nil, reject(ReasonBadSignature, "the signature of %s by %s does not verify", c.name, is.name))
		return
	}
	c.effBefore, c.effAfter = intersect(c, is)
	c.data, c.covered = nil, nil // only the wire and the key are kept
	t.finish(fl, c, nil)
}

// finish ends a flight: trust c, or refuse the name for NegativeTTL, or
// less for an unanswered fetch (unless the refusal is the limiter's, which
// passes), wake the waiting
// Validates and continue the chain steps waiting on it.
func (t *Trust) finish(fl *flight, c *cert, rej *RejectError) {
	now := t.cfg.Clock()
	t.mu.Lock()
	if t.flights[fl.key] == fl {
		delete(t.flights, fl.key)
	}
	if c != nil {
		t.insertLocked(c)
		delete(t.negative, fl.key)
	} else if rej.Reason != ReasonFetchLimited {
		t.addNegativeLocked(fl.key, rej, fl.unanswered, now)
	}
	conts := fl.conts
	fl.conts = nil
	t.mu.Unlock()
	if c != nil {
		t.stats.ok.Add(1)
	} else {
		t.stats.failed.Add(1)
	}
	close(fl.ready)
	for _, f := range conts {
		f(c, rej)
	}
}
