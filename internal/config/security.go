package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Signer types of security.signer.
const (
	SignerNone    = ""        // no security: DigestSha256 sent, everything accepted
	SignerDigest  = "digest"  // DigestSha256 sent and required: integrity, no authenticity
	SignerHMAC    = "hmac"    // a key the whole group shares
	SignerEd25519 = "ed25519" // keys, certificates, trust anchors and a schema
	SignerECDSA   = "ecdsa"
	SignerRSA     = "rsa"
)

var signers = []string{SignerNone, SignerDigest, SignerHMAC, SignerEd25519, SignerECDSA, SignerRSA}

// MinHMACKeyBytes is the shortest group key security.hmac_key_file may
// hold: 128 bits, the security of the HMAC-SHA256 tag being bounded by the
// key's entropy.
const MinHMACKeyBytes = 16

// Security is the [security] table: how the node signs what it sends
// (State Vector Data and publications) and what it accepts. Without it the
// node signs with DigestSha256 and accepts every vector, as ndnd without a
// trust configuration and NDNts by default do: anyone on the network can
// then announce members. docs/security.md has the threat model and a
// step-by-step set-up.
type Security struct {
	// Signer is "" (none), "digest", "hmac", or a key type: "ed25519",
	// "ecdsa" (P-256) or "rsa". A key type fails closed: only packets
	// signed by a key whose certificate chains to an anchor, within the
	// schema, are accepted.
	Signer string `toml:"signer"`
	// Keys are files made by `ndnd sec` (PEM or TLV): the node's key, its
	// certificate, and any intermediate certificates. Read only.
	Keys []string `toml:"keys"`
	// Key names the key to sign with (/<id>/KEY/<kid>) or its identity;
	// "" when Keys hold one key.
	Key string `toml:"key"`
	// Anchors are the trust anchors' certificate files.
	Anchors []string `toml:"anchors"`
	// Schema is a LightVerSec trust schema file: text, or the binary
	// model python-ndn compiles.
	Schema string `toml:"schema"`
	// HMACKeyFile holds the group's shared key for "hmac", in base64 on
	// one line (at least MinHMACKeyBytes bytes once decoded).
	HMACKeyFile string `toml:"hmac_key_file"`
	// CertPrefixes are where other members' certificates are fetched
	// from: routed to the network faces, as the groups are. Empty means
	// the identities of the anchors (/<id> of /<id>/KEY/...), which is
	// where a group's members usually live.
	CertPrefixes []string `toml:"cert_prefixes"`
}

// KeyTyped reports whether the signer uses keys and certificates.
func (s Security) KeyTyped() bool {
	switch s.Signer {
	case SignerEd25519, SignerECDSA, SignerRSA:
		return true
	}
	return false
}

func (c Config) checkSecurity(ch *checker) {
	s := c.Security
	if !slices.Contains(signers, s.Signer) {
		ch.add("security.signer", "%s: want one of \"\" (no security), digest, hmac, ed25519, ecdsa, rsa", quote(s.Signer))
	}
	files := func(key string, paths []string) {
		for i, p := range paths {
			if p == "" {
				ch.add(key+"["+strconv.Itoa(i)+"]", "empty path")
			}
		}
	}
	files("security.keys", s.Keys)
	files("security.anchors", s.Anchors)
	for i, p := range s.CertPrefixes {
		if _, err := checkName(p); err != nil {
			ch.bad("security.cert_prefixes["+strconv.Itoa(i)+"]", p, err)
		}
	}
	if s.Key != "" {
		if _, err := checkName(s.Key); err != nil {
			ch.bad("security.key", s.Key, err)
		}
	}
	switch {
	case s.KeyTyped():
		if len(s.Keys) == 0 {
			ch.add("security.keys", "signer %s needs the node's key and certificate files (ndnd sec keygen, sign-cert)", quote(s.Signer))
		}
		if len(s.Anchors) == 0 {
			ch.add("security.anchors", "signer %s needs at least one trust anchor certificate file", quote(s.Signer))
		}
		if s.Schema == "" {
			ch.add("security.schema", "signer %s needs a trust schema (LightVerSec) saying which key may sign which name", quote(s.Signer))
		}
		if s.HMACKeyFile != "" {
			ch.add("security.hmac_key_file", "set with signer %s, which does not use it", quote(s.Signer))
		}
	case s.Signer == SignerHMAC:
		if s.HMACKeyFile == "" {
			ch.add("security.hmac_key_file", "signer \"hmac\" needs the group's key file")
		}
		fallthrough
	default:
		for key, set := range map[string]bool{"security.keys": len(s.Keys) > 0, "security.anchors": len(s.Anchors) > 0, "security.schema": s.Schema != ""} {
			if set {
				ch.add(key, "set with signer %s, which does not use it", quote(s.Signer))
			}
		}
		if s.HMACKeyFile != "" && s.Signer != SignerHMAC {
			ch.add("security.hmac_key_file", "set with signer %s, which does not use it", quote(s.Signer))
		}
	}
}

func (c Config) preflightSecurity(ch *checker) {
	s := c.Security
	readable := func(key string, paths ...string) {
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				ch.add(key, "%v", err)
				continue
			}
			f.Close()
		}
	}
	readable("security.keys", s.Keys...)
	readable("security.anchors", s.Anchors...)
	if s.Schema != "" {
		readable("security.schema", s.Schema)
	}
	if s.HMACKeyFile != "" {
		if _, err := s.HMACKey(); err != nil {
			ch.add("security.hmac_key_file", "%v", err)
		}
	}
}

// HMACKey reads and decodes security.hmac_key_file.
func (s Security) HMACKey() ([]byte, error) {
	b, err := os.ReadFile(s.HMACKeyFile)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not one line of base64: %v", quote(s.HMACKeyFile), err)
	}
	if len(key) < MinHMACKeyBytes {
		return nil, fmt.Errorf("%s: the key has %d bytes, under %d", quote(s.HMACKeyFile), len(key), MinHMACKeyBytes)
	}
	return key, nil
}
