package wire

import (
	"crypto/sha256"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"
)

// SyncVersion is the SVS version this package speaks: the value of the
// VersionNameComponent in Sync Interest names.
const SyncVersion = 3

// DefaultLifetime is the InterestLifetime of Sync Interests.
// [Spec] The Sync Interest lifetime SHOULD be 1 second; ndnd v1.5.3
// and NDNts use 1 s too (docs/interop.md).
const DefaultLifetime = time.Second

// Signer signs the State Vector Data carried in every Sync Interest. It is
// ndnd's ndn.Signer. The Codec calls Sign synchronously from the encoding
// goroutine; a Signer shared by several Codecs or goroutines must be safe
// for concurrent use.
type Signer = ndn.Signer

// Validator decides whether a received State Vector Data is authentic.
// data is the inner Data as ndnd parses it, sigCovered the bytes its
// signature covers (Name through SignatureInfo). A non-nil error rejects
// the Sync Interest with ErrValidation. Validate runs synchronously on the
// goroutine that calls DecodeSyncInterest and must not retain data or
// sigCovered, which alias the packet. A Validator that must fetch a
// certificate first returns a *PendingError, which DecodeSyncInterest
// wraps with ErrValidation like any rejection; the driver holds the packet
// and decodes it again once PendingError.Ready is closed.
type Validator interface {
	Validate(data ndn.Data, sigCovered enc.Wire) error
}

// ValidatorFunc adapts a function to Validator.
type ValidatorFunc func(data ndn.Data, sigCovered enc.Wire) error

// Validate calls f.
func (f ValidatorFunc) Validate(data ndn.Data, sigCovered enc.Wire) error {
	return f(data, sigCovered)
}

// AcceptAll is the default Validator: it accepts every State Vector Data
// whatever its signature type (DigestSha256, NDNts's Null type 200, or any
// other), as ndnd without a trust configuration and NDNts's noopSigning do
// (docs/interop.md, "What each implementation does on the wire"). The parameters digest still protects the packet against
// corruption in transit. A Codec using AcceptAll does not build the ndn.Data
// at all, which keeps decoding cheap.
var AcceptAll Validator = acceptAll{}

type acceptAll struct{}

func (acceptAll) Validate(ndn.Data, enc.Wire) error { return nil }

// DigestSha256 is a Validator that accepts only a DigestSha256 signature
// (type 0) whose value is the SHA-256 of the covered bytes. It rejects
// NDNts's Null-signed (type 200) Data, so it is for groups where every
// member signs with DigestSha256.
var DigestSha256 Validator = ValidatorFunc(func(data ndn.Data, sigCovered enc.Wire) error {
	sig := data.Signature()
	if sig == nil || sig.SigType() != ndn.SignatureDigestSha256 {
		return fmt.Errorf("signature type is not DigestSha256")
	}
	if !signer.ValidateSha256(sigCovered, sig) {
		return fmt.Errorf("DigestSha256 value does not match")
	}
	return nil
})

// Options tunes a Codec. The zero value gives the defaults.
type Options struct {
	// Validator checks the inner State Vector Data of received Sync
	// Interests. nil means AcceptAll.
	Validator Validator
	// MaxEntries bounds the (node, boot) pairs of a vector, in both
	// directions: decoding a larger vector, or encoding one, fails with
	// ErrTooLarge. 0 means DefaultMaxEntries. It trades the largest group
	// the node can take part in against the work an attacker can cause
	// with one packet.
	MaxEntries int
	// Lifetime is the InterestLifetime of outgoing Sync Interests,
	// rounded down to milliseconds; under 1 ms is refused. 0 means
	// DefaultLifetime (1 s, as the
	// spec, ndnd and NDNts use; ndn-svs C++ v2 uses 1 ms).
	Lifetime time.Duration
	// OmitSignatureTime leaves SignatureTime out of the State Vector
	// Data's SignatureInfo, as ndnd v1.5.3 does (test vectors TV7a/TV7b).
	// By default it is there, as ndnd main writes it: without it, two
	// members holding the same state vector send byte-identical Sync
	// Interests, and a forwarder aggregates the second into the first's
	// PIT entry and suppresses it, so a quiet group's periodic Sync
	// Interests go unheard and every member keeps sending its own.
	OmitSignatureTime bool
	// Clock gives SignatureTime; nil means time.Now.
	Clock func() time.Time
}

// Codec encodes and decodes the Sync Interests of one sync group.
// A Codec is immutable after NewCodec and safe for concurrent use if its
// Signer and Validator are.
type Codec struct {
	group      enc.Name
	groupValue []byte // TLV-VALUE of the group name
	signer     Signer
	fastDigest bool   // signer is ndnd's DigestSha256 signer: sign inline
	sigInfo    []byte // the whole SignatureInfo TLV, fixed per signer but for its time
	sigTimeAt  int    // offset of SignatureTime's 8-byte value in sigInfo, or -1
	clock      func() time.Time
	lastTime   atomic.Uint64 // last SignatureTime written, in ms: each is later
	sigEstLen  int
	validator  Validator // nil: accept all without parsing with ndnd
	maxEntries int
	lifetimeMs uint64
}

// NewCodec returns a Codec for the sync group group. s signs outgoing
// State Vector Data; nil means signer.NewSha256Signer() (DigestSha256, what
// ndnd uses without a trust configuration). The SignatureInfo is built once
// here from s.Type() and s.KeyLocator(), so s must not change them later.
// The group name is copied.
func NewCodec(group enc.Name, s Signer, opts Options) (*Codec, error) {
	if len(group) == 0 {
		return nil, fmt.Errorf("%w: empty sync group name", ErrInvalidName)
	}
	groupValue := nameValue(group)
	if err := checkName(groupValue); err != nil {
		return nil, fmt.Errorf("%w: sync group name: %w", ErrInvalidName, err)
	}
	c := &Codec{
		group:      group.Clone(),
		groupValue: groupValue,
		maxEntries: opts.MaxEntries,
		validator:  opts.Validator,
	}
	if c.maxEntries == 0 {
		c.maxEntries = DefaultMaxEntries
	}
	if c.maxEntries < 0 {
		return nil, fmt.Errorf("%w: negative MaxEntries %d", ErrConfig, opts.MaxEntries)
	}
	if c.validator == AcceptAll {
		c.validator = nil
	}
	switch {
	case opts.Lifetime == 0:
		c.lifetimeMs = uint64(DefaultLifetime / time.Millisecond)
	case opts.Lifetime < time.Millisecond:
		return nil, fmt.Errorf("%w: Lifetime %v is under 1 ms", ErrConfig, opts.Lifetime)
	default:
		c.lifetimeMs = uint64(opts.Lifetime / time.Millisecond)
	}
	if s == nil {
		s = signer.NewSha256Signer()
	}
	c.signer = s
	// Comparing with a value of ndnd's unexported sha256Signer type cannot
	// panic: interfaces with different dynamic types are simply unequal.
	c.fastDigest = s == signer.NewSha256Signer()
	typ := s.Type()
	if typ < 0 || typ > math.MaxInt32 {
		return nil, fmt.Errorf("%w: signer type %d cannot sign Data", ErrConfig, typ)
	}
	var info []byte
	info = appendNonNegTLV(info, typeSignatureType, uint64(typ))
	if kl := s.KeyLocator(); len(kl) > 0 {
		klv := nameValue(kl)
		if err := checkName(klv); err != nil {
			return nil, fmt.Errorf("%w: signer key locator: %w", ErrConfig, err)
		}
		info = appendTL(info, typeKeyLocator, tlvLen(typeName, len(klv)))
		info = appendTL(info, typeName, len(klv))
		info = append(info, klv...)
	}
	c.sigTimeAt = -1
	if !opts.OmitSignatureTime {
		// Always the 8-byte form: milliseconds since 1970 need 41 bits,
		// so the length of the packet does not depend on the time.
		info = append(info, typeSignatureTime, 8)
		info = append(info, make([]byte, 8)...)
	}
	c.sigInfo = append(appendTL(nil, typeSignatureInfo, len(info)), info...)
	if !opts.OmitSignatureTime {
		c.sigTimeAt = len(c.sigInfo) - 8
	}
	c.clock = opts.Clock
	if c.clock == nil {
		c.clock = time.Now
	}
	c.sigEstLen = int(min(s.EstimateSize(), MaxPacketSize))
	if c.fastDigest {
		c.sigEstLen = sha256.Size
	}
	return c, nil
}

// Group returns a copy of the sync group name.
func (c *Codec) Group() enc.Name { return c.group.Clone() }

// SyncPrefix returns /<group>/v=3, the prefix to register and announce for
// receiving Sync Interests, and the name of the State Vector Data.
// [Spec §2] (2026-07-17): announce /<group-prefix>/v=3.
func (c *Codec) SyncPrefix() enc.Name {
	return c.group.Clone().Append(enc.NewVersionComponent(SyncVersion))
}

// signatureTime returns the SignatureTime for the next packet: now in
// milliseconds, and always after the previous one, so that no two packets of
// this Codec carry the same SignatureInfo.
func (c *Codec) signatureTime() uint64 {
	now := uint64(max(c.clock().UnixMilli(), 0))
	for {
		last := c.lastTime.Load()
		t := max(now, last+1)
		if c.lastTime.CompareAndSwap(last, t) {
			return t
		}
	}
}
