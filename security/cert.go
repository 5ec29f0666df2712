package security

import (
	"container/list"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
)

// maxCertSize bounds a certificate's wire. An NDN packet is at most 8800
// bytes; an RSA-4096 certificate is about 1.3 KB.
const maxCertSize = 8800

// cert is a parsed certificate: what the chain walker needs, with the
// public key parsed once (ndnd's ValidateData parses it on every packet).
type cert struct {
	name      enc.Name // full name, /<id>/KEY/<kid>/<issuer>/<version>
	wire      []byte   // private copy
	notBefore time.Time
	notAfter  time.Time
	pub       crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	pubDER    []byte           // SPKI, to match a private key against
	issuer    enc.Name         // its KeyLocator (nil if none)
	data      ndn.Data         // parsed from wire, for verifying it
	covered   enc.Wire

	// Set once trusted (validated, an anchor or own): the validity window
	// intersected with its issuers', so that one time check covers the
	// whole chain, and the anchor flag (never evicted).
	effBefore, effAfter time.Time
	anchor              bool
	own                 bool
	file                string        // where it was read from, for New's errors
	elem                *list.Element // in Trust.order while a cached fetched certificate

	// lastOK memoises the last packet name that passed the schema with
	// this certificate: the State Vector Data of a group always has the
	// same (stripped) name, and the LVS match allocates per component.
	lastOK atomic.Pointer[enc.Name]
}

// parseCert parses and checks the form of a certificate: a Data with
// ContentType Key, a name /<id>/KEY/<kid>/<issuer>/<version>, a
// ValidityPeriod and an SPKI public key of a supported type. It does not
// check the validity period against now, nor the signature.
func parseCert(raw []byte) (*cert, error) {
	if len(raw) > maxCertSize {
		return nil, fmt.Errorf("%d bytes, more than %d", len(raw), maxCertSize)
	}
	wire := append([]byte(nil), raw...)
	data, covered, err := ndnpkt.Data(wire)
	if err != nil {
		return nil, fmt.Errorf("not a Data: %w", err)
	}
	name := data.Name()
	if ct, ok := data.ContentType().Get(); !ok || ct != ndn.ContentTypeKey {
		return nil, fmt.Errorf("%s: ContentType is not Key (2)", name)
	}
	if !isCertName(name) {
		return nil, fmt.Errorf("%s: not a certificate name /<id>/KEY/<kid>/<issuer>/<version>", name)
	}
	sig := data.Signature()
	if sig == nil {
		return nil, fmt.Errorf("%s: no signature", name)
	}
	nb, na := sig.Validity()
	notBefore, ok1 := nb.Get()
	notAfter, ok2 := na.Get()
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: no ValidityPeriod", name)
	}
	pubDER := data.Content().Join()
	pub, err := x509.ParsePKIXPublicKey(pubDER)
	if err != nil {
		return nil, fmt.Errorf("%s: public key: %w", name, err)
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("%s: unsupported public key type %T", name, pub)
	}
	return &cert{
		name:      name,
		wire:      wire,
		notBefore: notBefore,
		notAfter:  notAfter,
		pub:       pub,
		pubDER:    pubDER,
		issuer:    sig.KeyName(),
		data:      data,
		covered:   covered,
	}, nil
}

// validAt says whether t is inside the certificate's own validity period,
// bounds included (as ndnd's CertIsExpired).
func (c *cert) validAt(t time.Time) bool {
	return !t.Before(c.notBefore) && !t.After(c.notAfter)
}

// effValidAt is validAt over the whole chain up to the anchor.
func (c *cert) effValidAt(t time.Time) bool {
	return !t.Before(c.effBefore) && !t.After(c.effAfter)
}

// expiryError describes why c is not valid at t.
func (c *cert) expiryError(t time.Time) error {
	if t.Before(c.notBefore) {
		return fmt.Errorf("%s is not valid before %s (NotBefore)", c.name, c.notBefore.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%s expired at %s (NotAfter)", c.name, c.notAfter.UTC().Format(time.RFC3339))
}

// isCertName: /<id>/KEY/<kid>/<issuer>/<version>.
func isCertName(n enc.Name) bool {
	return len(n) >= 5 && n[len(n)-4].IsGeneric("KEY") && n[len(n)-1].IsVersion()
}

// isKeyName: /<id>/KEY/<kid>.
func isKeyName(n enc.Name) bool {
	return len(n) >= 3 && n[len(n)-2].IsGeneric("KEY")
}

// isCertNameNoVersion: /<id>/KEY/<kid>/<issuer>, ndnd's Suggest form.
func isCertNameNoVersion(n enc.Name) bool {
	return len(n) >= 4 && n[len(n)-3].IsGeneric("KEY")
}

// isLocatorName says whether a KeyLocator has one of the three forms a
// certificate can be looked up by.
func isLocatorName(n enc.Name) bool {
	return isKeyName(n) || isCertNameNoVersion(n) || isCertName(n)
}

// answers says whether a certificate named cn answers the KeyLocator loc:
// loc is the certificate name, that name minus its version, or the key
// name.
func answers(cn, loc enc.Name) bool {
	switch len(cn) - len(loc) {
	case 0, 1, 2:
		return cn.Prefix(len(loc)).Equal(loc)
	}
	return false
}

// verify checks sigValue over covered with pub, for sigType. The key's
// type must be the one the signature type names.
func verify(pub crypto.PublicKey, sigType ndn.SigType, covered enc.Wire, sigValue []byte) bool {
	switch sigType {
	case ndn.SignatureEd25519:
		k, ok := pub.(ed25519.PublicKey)
		return ok && ed25519.Verify(k, covered.Join(), sigValue)
	case ndn.SignatureSha256WithEcdsa:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		d := digest(covered)
		return ecdsa.VerifyASN1(k, d[:], sigValue)
	case ndn.SignatureSha256WithRsa:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return false
		}
		d := digest(covered)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sigValue) == nil
	}
	return false
}

// digest is SHA-256 over the covered parts, without joining them.
func digest(covered enc.Wire) [sha256.Size]byte {
	if len(covered) == 1 {
		return sha256.Sum256(covered[0])
	}
	h := sha256.New()
	for _, b := range covered {
		h.Write(b)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// isKeySigType: the signature types that name a public key.
func isKeySigType(t ndn.SigType) bool {
	return t == ndn.SignatureEd25519 || t == ndn.SignatureSha256WithEcdsa || t == ndn.SignatureSha256WithRsa
}

// stripName returns the name the schema is checked against, as ndnd's
// object client does (removeRdr): without a trailing segment, then a
// trailing version, then a trailing 32=metadata. So /<g>/v=3 and
// ndnd's /<g>/v=<µs> are both checked as /<g>.
func stripName(n enc.Name) enc.Name {
	if len(n) > 0 && n[len(n)-1].IsSegment() {
		n = n[:len(n)-1]
	}
	if len(n) > 0 && n[len(n)-1].IsVersion() {
		n = n[:len(n)-1]
	}
	if len(n) > 0 && n[len(n)-1].IsKeyword("metadata") {
		n = n[:len(n)-1]
	}
	return n
}
