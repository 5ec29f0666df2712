package security

import (
	"errors"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/security/trust_schema"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

var _ wire.Validator = (*Trust)(nil)

// Rejections without a detail, built once: the cheap refusals of a flood
// of forged packets should not allocate.
var (
	rejUnsigned     = &RejectError{Reason: ReasonUnsigned, Err: errors.New("no signature, a Null one, or DigestSha256 where keys are required")}
	rejSigType      = &RejectError{Reason: ReasonSignatureType, Err: errors.New("a signature type this group does not use")}
	rejNoLocator    = &RejectError{Reason: ReasonNoKeyLocator, Err: errors.New("no KeyLocator name")}
	rejBadLocator   = &RejectError{Reason: ReasonNoKeyLocator, Err: errors.New("the KeyLocator is neither a key name, a certificate name nor one minus its version")}
	rejCrossSchema  = &RejectError{Reason: ReasonCrossSchema, Err: errors.New("the Data carries a CrossSchema (TLV 600)")}
	rejBadSignature = &RejectError{Reason: ReasonBadSignature, Err: errors.New("the signature value does not verify")}
	rejNoRule       = &RejectError{Reason: ReasonSchema, Err: errors.New("no schema rule lets anyone sign this name")}
)

// Validate decides whether data, a received State Vector Data or
// publication, is authentic; sigCovered is what its signature covers. It
// returns nil, a *RejectError, or a *wire.PendingError whose Ready is
// closed when asking again gives an answer (a certificate fetch ended).
// It never blocks, is safe for concurrent use, and keeps neither data nor
// sigCovered (they alias a packet buffer the caller reuses).
func (t *Trust) Validate(data ndn.Data, sigCovered enc.Wire) error {
	err := t.validate(data, sigCovered)
	switch e := err.(type) {
	case nil:
		t.stats.accepted.Add(1)
		return nil
	case *RejectError:
		if e.Reason < reasonEnd {
			t.stats.rejected[e.Reason].Add(1)
		}
	case *wire.PendingError:
		t.stats.pending.Add(1)
	}
	return err
}

func (t *Trust) validate(data ndn.Data, covered enc.Wire) error {
	sig := data.Signature()
	st := ndn.SignatureNone
	if sig != nil {
		st = sig.SigType()
	}
	// The checks run in the order of the Reasons: type, KeyLocator,
	// CrossSchema, schema, signature. No signature, NDNts's Null (200)
	// and, where keys or a shared key are required, DigestSha256 prove
	// nothing about the sender: "unsigned".
	switch st {
	case ndn.SignatureNone, ndn.SignatureEmptyTest:
		return rejUnsigned
	}
	switch t.mode {
	case ModeDigest:
		if st != ndn.SignatureDigestSha256 {
			return rejSigType
		}
		if t.crossSchema(data) {
			return rejCrossSchema
		}
		if !signer.ValidateSha256(covered, sig) {
			return rejBadSignature
		}
		return nil
	case ModeHMAC:
		switch st {
		case ndn.SignatureHmacWithSha256:
		case ndn.SignatureDigestSha256:
			return rejUnsigned
		default:
			return rejSigType
		}
		if t.crossSchema(data) {
			return rejCrossSchema
		}
		// hmac.Equal: constant time, so timing does not leak the MAC.
		if !signer.ValidateHmac(covered, sig, t.hmacKey) {
			return rejBadSignature
		}
		return nil
	}
	switch {
	case st == ndn.SignatureDigestSha256:
		return rejUnsigned
	case !isKeySigType(st):
		return rejSigType
	}
	return t.validateChain(data, sig, st, covered)
}

// crossSchema says whether data carries a CrossSchema the group refuses.
func (t *Trust) crossSchema(data ndn.Data) bool {
	return len(data.CrossSchema()) != 0 && !t.cfg.AllowCrossSchema
}

// validateChain is chain mode after the signature type checks.
func (t *Trust) validateChain(data ndn.Data, sig ndn.Signature, st ndn.SigType, covered enc.Wire) error {
	loc := sig.KeyName()
	if len(loc) == 0 {
		return rejNoLocator
	}
	if !isLocatorName(loc) {
		return rejBadLocator
	}
	if t.crossSchema(data) {
		return rejCrossSchema
	}
	name := stripName(data.Name())

	t.mu.RLock()
	c := t.lookupLocked(loc)
	t.mu.RUnlock()
	if c == nil {
		return t.miss(name, loc)
	}
	now := t.cfg.Clock()
	if !c.effValidAt(now) {
		// Drop a fetched one: the signer may hold a renewed certificate,
		// which a KeyLocator without version finds by the next fetch.
		t.mu.Lock()
		t.removeLocked(c)
		t.mu.Unlock()
		return reject(ReasonExpired, "%s (or its chain) is outside its validity period", c.name)
	}
	if p := c.lastOK.Load(); p == nil || !p.Equal(name) {
		if !schemaCheck(t.cfg.Schema, name, c.name) {
			return reject(ReasonSchema, "the schema does not let %s sign %s", c.name, name)
		}
		n := name.Clone()
		c.lastOK.Store(&n)
	}
	if !verify(c.pub, st, covered, sig.SigValue()) {
		return rejBadSignature
	}
	return nil
}

// lvsMatcher is what *trust_schema.LvsSchema offers beyond
// ndn.TrustSchema: the rules a name matches.
type lvsMatcher interface {
	MatchCollect(name enc.Name) []*trust_schema.LvsNode
}

// signable says whether some schema rule lets some key sign name. It is
// asked before a fetch, so a packet whose name no one may sign costs no
// Interest. A schema that cannot say lets every name through.
func (t *Trust) signable(name enc.Name) (ok bool) {
	m, isLvs := t.cfg.Schema.(lvsMatcher)
	if !isLvs {
		return true
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	for _, n := range m.MatchCollect(name) {
		if len(n.SignCons) != 0 {
			return true
		}
	}
	return false
}

// miss handles a KeyLocator that names no trusted certificate: refuse
// what the schema refuses before asking the network, then fetch (or
// refuse if negatively cached or limited).
func (t *Trust) miss(name, loc enc.Name) error {
	if !t.signable(name) {
		return rejNoRule
	}
	// With a full certificate name the schema can be asked now. A name
	// minus version is asked with a version 0 (LVS certificate rules end
	// in a wildcard version); a key name lacks the issuer, so it waits
	// for the certificate.
	switch {
	case isCertName(loc):
		if !schemaCheck(t.cfg.Schema, name, loc) {
			return reject(ReasonSchema, "the schema does not let %s sign %s", loc, name)
		}
	case isCertNameNoVersion(loc):
		// A new slice: Append may write into loc's spare capacity, which
		// belongs to the packet.
		withVersion := make(enc.Name, len(loc)+1)
		copy(withVersion, loc)
		withVersion[len(loc)] = enc.NewVersionComponent(0)
		if !schemaCheck(t.cfg.Schema, name, withVersion) {
			return reject(ReasonSchema, "the schema does not let %s sign %s", loc, name)
		}
	}
	c, fl, rej := t.request(loc, 1, nil)
	switch {
	case rej != nil:
		return rej
	case c != nil:
		// Trusted between the lookup and the request: ask again.
		return t.validateAgainPending(c)
	}
	return fl.pend
}

// validateAgainPending returns a PendingError that is already ready: the
// certificate arrived while this call looked for it, and the caller's
// next Validate finds it.
func (t *Trust) validateAgainPending(c *cert) error {
	ch := make(chan struct{})
	close(ch)
	return &wire.PendingError{Ready: ch, Waiting: c.name.String()}
}
