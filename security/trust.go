package security

import (
	"container/list"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"
)

// Fetcher fetches certificates for the validator. FetchCert sends an
// Interest for name (CanBePrefix, MustBeFresh) through the node's
// forwarder and returns at once; done is called exactly once, on any
// goroutine (inline too), with the wire bytes of the Data that answered,
// or an error (timeout, Nack). done does little and never blocks; it
// copies data, which the Fetcher may reuse once done returns.
type Fetcher interface {
	FetchCert(name enc.Name, done func(data []byte, err error))
}

// Trust signs and validates the packets of a node: State Vector Data and
// publications. Validate is safe for concurrent use and never blocks; the
// other methods are safe for concurrent use too.
type Trust struct {
	cfg  Config
	mode Mode

	// chain mode
	key     ndn.Signer // the node's private key
	ownCert *cert
	signer  ndn.Signer // key with the KeyLocator ndnd's Suggest gives
	chain   []*cert    // own certificate, then intermediates (served)
	anchors []*cert

	// hmac mode
	hmacKey []byte

	fetcher atomic.Pointer[fetcherBox]

	mu       sync.RWMutex
	certs    map[string]*cert // by full name, name minus version, key name (TlvStr)
	order    *list.List       // fetched certificates, oldest first, for eviction
	fetched  int              // fetched certificates in certs
	flights  map[string]*flight
	negative map[string]negEntry
	negOrder []negKey // negative keys, oldest first (may hold stale ones)
	negSeq   uint64
	tokens   float64 // limiter bucket
	tokensAt int64   // clock (UnixNano) of the last refill

	stats counters
}

type fetcherBox struct{ f Fetcher }

// counters are the Stats, kept with atomics so Validate's accepting path
// takes no write lock.
type counters struct {
	rejected [reasonEnd]atomic.Uint64
	accepted atomic.Uint64
	pending  atomic.Uint64
	started  atomic.Uint64
	ok       atomic.Uint64
	failed   atomic.Uint64
	refused  atomic.Uint64
}

// Stats are counters since New, and current sizes.
type Stats struct {
	// Rejected counts refused packets by reason (every Reason present).
	Rejected map[Reason]uint64
	// Accepted counts packets Validate accepted.
	Accepted uint64
	// Pending counts Validate calls that returned a *wire.PendingError.
	Pending uint64
	// FetchesStarted, FetchesSucceeded and FetchesFailed count certificate
	// fetches (FetchCert calls) and how they ended; a fetch succeeds when
	// what came back is a certificate whose chain validated.
	FetchesStarted   uint64
	FetchesSucceeded uint64
	FetchesFailed    uint64
	// FetchesRefused counts fetches the rate or concurrency bound refused.
	FetchesRefused uint64
	// InFlight is the number of fetches under way now; Waiters the
	// Validate calls and chain steps waiting on them.
	InFlight int
	Waiters  int
	// CachedCerts is the number of trusted certificates held: anchors, the
	// node's chain and validated fetched ones. NegativeCached is the
	// number of certificate names refused without asking.
	CachedCerts    int
	NegativeCached int
}

// New reads the files of cfg and checks them. It fails, naming the file
// and the reason, on anything that would make the node sign packets its
// peers refuse or accept packets it should not: see the checks in doc.go.
func New(cfg Config) (*Trust, error) {
	cfg = cfg.withDefaults()
	t := &Trust{
		cfg:      cfg,
		certs:    make(map[string]*cert),
		order:    list.New(),
		flights:  make(map[string]*flight),
		negative: make(map[string]negEntry),
		tokens:   float64(cfg.FetchBurst),
		tokensAt: cfg.Clock().UnixNano(),
	}
	switch cfg.Signer {
	case "digest":
		t.mode = ModeDigest
	case "hmac":
		t.mode = ModeHMAC
	case "ed25519", "ecdsa", "rsa":
		t.mode = ModeChain
	default:
		return nil, fmt.Errorf("security: Signer %q is none of digest, ed25519, ecdsa, rsa, hmac", cfg.Signer)
	}
	if t.mode != ModeChain {
		// Key material given to a mode that ignores it is a configuration
		// mistake (a typo in Signer would silently drop all security).
		if len(cfg.KeyFiles) != 0 || len(cfg.Anchors) != 0 || cfg.Schema != nil || cfg.Key != "" {
			return nil, fmt.Errorf("security: Signer %q takes no KeyFiles, Key, Anchors or Schema", cfg.Signer)
		}
	}
	switch t.mode {
	case ModeDigest:
		if len(cfg.HMACKey) != 0 {
			return nil, errors.New("security: HMACKey given but Signer is \"digest\"")
		}
		return t, nil
	case ModeHMAC:
		if len(cfg.HMACKey) < MinHMACKey {
			return nil, fmt.Errorf("security: HMACKey has %d bytes, fewer than %d", len(cfg.HMACKey), MinHMACKey)
		}
		t.hmacKey = append([]byte(nil), cfg.HMACKey...)
		return t, nil
	}
	if len(cfg.HMACKey) != 0 {
		return nil, fmt.Errorf("security: HMACKey given but Signer is %q", cfg.Signer)
	}
	if err := t.loadChain(); err != nil {
		return nil, err
	}
	for _, n := range cfg.SignNames {
		if err := t.CanSign(n); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// loadChain reads the key files and anchors of a chain mode.
func (t *Trust) loadChain() error {
	cfg := t.cfg
	if cfg.Schema == nil {
		return fmt.Errorf("security: Signer %q needs a Schema", cfg.Signer)
	}
	if len(cfg.Anchors) == 0 {
		return fmt.Errorf("security: Signer %q needs at least one anchor", cfg.Signer)
	}
	if len(cfg.KeyFiles) == 0 {
		return fmt.Errorf("security: Signer %q needs KeyFiles", cfg.Signer)
	}
	now := cfg.Clock()
	for _, f := range cfg.Anchors {
		keys, certs, err := readEntries(f)
		if err != nil {
			return err
		}
		if len(keys) != 0 {
			// An anchor file is public; a private key there is misplaced.
			return fmt.Errorf("security: anchor %s: holds a private key", f)
		}
		for _, c := range certs {
			if !c.validAt(now) {
				return fmt.Errorf("security: anchor %s: %w", f, c.expiryError(now))
			}
			c.anchor = true
			c.effBefore, c.effAfter = c.notBefore, c.notAfter
			t.anchors = append(t.anchors, c)
		}
	}
	var keys []fileKey
	var certs []*cert
	for _, f := range cfg.KeyFiles {
		k, c, err := readEntries(f)
		if err != nil {
			return err
		}
		keys = append(keys, k...)
		certs = append(certs, c...)
	}
	key, err := chooseKey(keys, cfg.Key)
	if err != nil {
		return err
	}
	if want := signerTypes[cfg.Signer]; key.signer.Type() != want {
		return fmt.Errorf("security: key %s in %s is %s, not %s (Signer %q)", key.signer.KeyName(), key.file, key.signer.Type(), want, cfg.Signer)
	}
	own, err := chooseCert(key, certs, now)
	if err != nil {
		return err
	}
	chain, err := ownChain(own, certs, t.anchors, cfg.Schema, now)
	if err != nil {
		return err
	}
	// Trust the chain from the anchor down: each one's effective window is
	// its own within its issuer's.
	for _, a := range t.anchors {
		t.index(a)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		c.own = true
		c.effBefore, c.effAfter = c.notBefore, c.notAfter
		if is := t.lookupLocked(c.issuer); is != nil {
			c.effBefore, c.effAfter = intersect(c, is)
		}
		t.index(c)
	}
	// Only the wire and the parsed key are needed from now on.
	for _, c := range chain {
		c.data, c.covered = nil, nil
	}
	for _, c := range t.anchors {
		c.data, c.covered = nil, nil
	}
	t.key = key.signer
	t.ownCert = own
	t.chain = chain
	// ndnd's Suggest signs with the certificate name minus its version as
	// KeyLocator; ndnd's validator (and ours) look that form up directly.
	t.signer = &signer.ContextSigner{Signer: key.signer, KeyLocatorName: own.name.Prefix(-1)}
	return nil
}

// Mode returns how t signs and validates.
func (t *Trust) Mode() Mode { return t.mode }

// Signer returns the signer for packets named under name (a group prefix,
// a publication name). In chain mode it first checks that the schema lets
// the node's certificate sign name (see CanSign), so that a node never
// sends what its peers refuse. The signer is shared and safe for
// concurrent use.
func (t *Trust) Signer(name enc.Name) (ndn.Signer, error) {
	switch t.mode {
	case ModeDigest:
		return signer.NewSha256Signer(), nil
	case ModeHMAC:
		return signer.NewHmacSigner(t.hmacKey), nil
	}
	if err := t.CanSign(name); err != nil {
		return nil, err
	}
	return t.signer, nil
}

// CanSign says whether the node may sign a packet named name: in chain
// mode, whether the schema lets its certificate sign name with a trailing
// segment, version and 32=metadata stripped (what Validate checks, and
// what ndnd checks). Pass a full sample name, e.g. /<g>/v=3 or a
// publication name with its seq: a bare prefix matches no publication
// rule. Digest and HMAC modes can sign anything.
func (t *Trust) CanSign(name enc.Name) error {
	if t.mode != ModeChain {
		return nil
	}
	if !schemaCheck(t.cfg.Schema, stripName(name), t.ownCert.name) {
		return fmt.Errorf("security: the schema does not let %s sign %s (checked as %s)", t.ownCert.name, name, stripName(name))
	}
	return nil
}

// SetFetcher sets how certificates are fetched. Set it before the first
// Validate; nil (the default) means no fetching: packets signed by
// unknown keys are refused as unknown_key.
func (t *Trust) SetFetcher(f Fetcher) {
	if f == nil {
		t.fetcher.Store(nil)
		return
	}
	t.fetcher.Store(&fetcherBox{f})
}

// OwnChain returns the wire of the node's certificate and of the
// intermediates up to (not including) an anchor, leaf first, to serve to
// peers. The slices are shared: do not modify them.
func (t *Trust) OwnChain() [][]byte {
	r := make([][]byte, len(t.chain))
	for i, c := range t.chain {
		r[i] = c.wire
	}
	return r
}

// AnchorNames returns the full names of the trust anchors (chain mode;
// nil otherwise), e.g. to route certificate Interests towards their
// identities. The names are copies.
func (t *Trust) AnchorNames() []enc.Name {
	var r []enc.Name
	for _, a := range t.anchors {
		r = append(r, a.name.Clone())
	}
	return r
}

// Lookup returns a certificate that answers an Interest for name: one of
// OwnChain, an anchor, or a validated fetched certificate, so that
// members relay each other's chains as ndnd clients do. With canBePrefix
// a cached certificate is found by its name minus version or its key name
// (the KeyLocator forms); the node's own chain by any prefix. nil if none.
// The slice is shared: do not modify it.
func (t *Trust) Lookup(name enc.Name, canBePrefix bool) []byte {
	if len(name) == 0 {
		return nil
	}
	for _, c := range t.chain {
		if c.name.Equal(name) || canBePrefix && name.IsPrefix(c.name) {
			return c.wire
		}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.certs[name.TlvStr()]
	if c == nil {
		return nil
	}
	if !canBePrefix && !c.name.Equal(name) {
		return nil
	}
	return c.wire
}

// Stats returns the counters and sizes now.
func (t *Trust) Stats() Stats {
	s := Stats{
		Rejected:         make(map[Reason]uint64, len(Reasons)),
		Accepted:         t.stats.accepted.Load(),
		Pending:          t.stats.pending.Load(),
		FetchesStarted:   t.stats.started.Load(),
		FetchesSucceeded: t.stats.ok.Load(),
		FetchesFailed:    t.stats.failed.Load(),
		FetchesRefused:   t.stats.refused.Load(),
	}
	for _, r := range Reasons {
		s.Rejected[r] = t.stats.rejected[r].Load()
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	s.InFlight = len(t.flights)
	for _, f := range t.flights {
		s.Waiters += f.waiters + len(f.conts)
	}
	s.CachedCerts = len(t.anchors) + t.fetched
	for _, c := range t.chain {
		if !c.anchor {
			s.CachedCerts++
		}
	}
	s.NegativeCached = len(t.negative)
	return s
}
