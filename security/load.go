package security

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
)

// fileKey is a private key read from a file.
type fileKey struct {
	signer ndn.Signer
	file   string
}

// readEntries reads an ndnd `sec` file: PEM "NDN KEY" / "NDN CERT" blocks,
// or one raw TLV Data (first byte 0x06, as sec.DecodeFile decides).
// Unlike sec.DecodeFile, which logs and skips what it cannot read, any
// entry it cannot use fails the whole file: a half-read key file would
// start a node with the wrong key or none.
func readEntries(file string) (keys []fileKey, certs []*cert, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("security: %w", err)
	}
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("security: %s: empty file", file)
	}
	var raws [][]byte
	if b[0] == 0x06 {
		raws = append(raws, b)
	} else {
		rest := b
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != sec.PEM_TYPE_CERT && block.Type != sec.PEM_TYPE_SECRET {
				return nil, nil, fmt.Errorf("security: %s: PEM block %q is neither %q nor %q", file, block.Type, sec.PEM_TYPE_CERT, sec.PEM_TYPE_SECRET)
			}
			raws = append(raws, block.Bytes)
		}
		if len(raws) == 0 {
			return nil, nil, fmt.Errorf("security: %s: no PEM block and not a TLV Data", file)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, nil, fmt.Errorf("security: %s: text after the last PEM block", file)
		}
	}
	for i, raw := range raws {
		data, _, err := ndnpkt.Data(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("security: %s: entry %d: not a Data: %w", file, i+1, err)
		}
		ct, _ := data.ContentType().Get()
		switch {
		case !data.ContentType().IsSet():
			return nil, nil, fmt.Errorf("security: %s: entry %d (%s): no ContentType", file, i+1, data.Name())
		case ct == ndn.ContentTypeSigningKey:
			k, err := signer.UnmarshalSecret(data)
			if err != nil {
				return nil, nil, fmt.Errorf("security: %s: key %s: %w", file, data.Name(), err)
			}
			keys = append(keys, fileKey{signer: k, file: file})
		case ct == ndn.ContentTypeKey:
			c, err := parseCert(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("security: %s: certificate: %w", file, err)
			}
			c.file = file
			certs = append(certs, c)
		default:
			return nil, nil, fmt.Errorf("security: %s: entry %d (%s): ContentType %d is neither a key (9) nor a certificate (2)", file, i+1, data.Name(), ct)
		}
	}
	return keys, certs, nil
}

// signerTypes maps Config.Signer to the signature type of its keys.
var signerTypes = map[string]ndn.SigType{
	"ed25519": ndn.SignatureEd25519,
	"ecdsa":   ndn.SignatureSha256WithEcdsa,
	"rsa":     ndn.SignatureSha256WithRsa,
}

// chooseKey picks the key named by want ("" = the only one).
func chooseKey(keys []fileKey, want string) (fileKey, error) {
	if want == "" {
		switch len(keys) {
		case 0:
			return fileKey{}, errors.New("security: no private key (NDN KEY) in KeyFiles")
		case 1:
			return keys[0], nil
		}
		return fileKey{}, fmt.Errorf("security: %d keys in KeyFiles (%s); set Key to one of them", len(keys), keyList(keys))
	}
	name, err := enc.NameFromStr(want)
	if err != nil || len(name) == 0 {
		return fileKey{}, fmt.Errorf("security: Key %q is not a name", want)
	}
	var found []fileKey
	for _, k := range keys {
		kn := k.signer.KeyName()
		if kn.Equal(name) {
			return k, nil
		}
		if id, err := sec.GetIdentityFromKeyName(kn); err == nil && id.Equal(name) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return fileKey{}, fmt.Errorf("security: no key %s in KeyFiles (found: %s)", name, keyList(keys))
	case 1:
		return found[0], nil
	}
	return fileKey{}, fmt.Errorf("security: identity %s has %d keys in KeyFiles (%s); set Key to a key name", name, len(found), keyList(found))
}

func keyList(keys []fileKey) string {
	if len(keys) == 0 {
		return "none"
	}
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.signer.KeyName().String() + " in " + k.file
	}
	return strings.Join(s, ", ")
}

// chooseCert picks, among certs, a certificate of key that is valid at
// now and holds key's public key; the latest NotAfter wins.
func chooseCert(key fileKey, certs []*cert, now time.Time) (*cert, error) {
	pub, err := key.signer.Public()
	if err != nil {
		return nil, fmt.Errorf("security: key %s in %s: public key: %w", key.signer.KeyName(), key.file, err)
	}
	kn := key.signer.KeyName()
	var best, latest *cert
	for _, c := range certs {
		if !c.name.Prefix(-2).Equal(kn) {
			continue
		}
		if !bytes.Equal(c.pubDER, pub) {
			return nil, fmt.Errorf("security: certificate %s in %s does not hold the public key of %s in %s", c.name, c.file, kn, key.file)
		}
		if latest == nil || c.notAfter.After(latest.notAfter) {
			latest = c
		}
		if c.validAt(now) && (best == nil || c.notAfter.After(best.notAfter)) {
			best = c
		}
	}
	if best != nil {
		return best, nil
	}
	if latest == nil {
		return nil, fmt.Errorf("security: no certificate of key %s (from %s) in KeyFiles", kn, key.file)
	}
	return nil, fmt.Errorf("security: no valid certificate of key %s: %s in %s: %w", kn, latest.name, latest.file, latest.expiryError(now))
}

// findIssuer returns the certificates among cands that answer loc.
func findIssuer(cands []*cert, loc enc.Name) []*cert {
	var r []*cert
	for _, c := range cands {
		if answers(c.name, loc) {
			r = append(r, c)
		}
	}
	return r
}

// ownChain walks from the node's certificate up to an anchor through the
// certificates of KeyFiles, checking each link now: validity, schema and
// signature. It returns the chain, leaf first, without the anchor.
func ownChain(leaf *cert, files []*cert, anchors []*cert, schema ndn.TrustSchema, now time.Time) ([]*cert, error) {
	chain := []*cert{leaf}
	c := leaf
	for range len(files) + 1 {
		if !c.validAt(now) {
			return nil, fmt.Errorf("security: %s: %w", c.file, c.expiryError(now))
		}
		// The node's key may be an anchor's (a group's root signing too):
		// trusted as such, with no link to check.
		for _, a := range anchors {
			if a.name.Equal(c.name) && bytes.Equal(a.pubDER, c.pubDER) {
				return chain, nil
			}
		}
		if len(c.issuer) == 0 {
			return nil, fmt.Errorf("security: %s: certificate %s has no KeyLocator", c.file, c.name)
		}
		var lastErr error
		link := func(cands []*cert) *cert {
			for _, is := range findIssuer(cands, c.issuer) {
				if err := checkLink(c, is, schema, now); err != nil {
					lastErr = err
					continue
				}
				return is
			}
			return nil
		}
		if a := link(anchors); a != nil {
			return chain, nil
		}
		is := link(files)
		if is == nil || is == c {
			if lastErr != nil {
				return nil, lastErr
			}
			return nil, fmt.Errorf("security: %s: the issuer %s of %s is neither an anchor nor in KeyFiles", c.file, c.issuer, c.name)
		}
		chain = append(chain, is)
		c = is
	}
	return nil, fmt.Errorf("security: the chain of %s does not reach an anchor (a loop in KeyFiles)", leaf.name)
}

// checkLink checks that issuer signed c: issuer valid at now, the schema
// lets issuer sign c, and the signature verifies.
func checkLink(c, issuer *cert, schema ndn.TrustSchema, now time.Time) error {
	if !issuer.validAt(now) {
		return fmt.Errorf("security: %s: %w", issuer.file, issuer.expiryError(now))
	}
	if !schemaCheck(schema, c.name, issuer.name) {
		return fmt.Errorf("security: %s: the schema does not let %s sign %s", c.file, issuer.name, c.name)
	}
	if !verify(issuer.pub, c.data.Signature().SigType(), c.covered, c.data.Signature().SigValue()) {
		return fmt.Errorf("security: %s: the signature of %s by %s does not verify", c.file, c.name, issuer.name)
	}
	return nil
}

// schemaCheck is schema.Check, with a panic turned into a refusal: an LVS
// model with a user function ($fn) loads in ndnd v1.5.3 but panics when a
// name reaches it, and the name comes from the network.
func schemaCheck(schema ndn.TrustSchema, pkt, certName enc.Name) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return schema.Check(pkt, certName)
}
