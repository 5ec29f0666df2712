package security

import (
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
)

// Mode is how a Trust signs and validates, decided by Config.Signer.
type Mode uint8

const (
	// ModeDigest: DigestSha256 only. Integrity against corruption, no
	// authenticity: anyone can compute a digest.
	ModeDigest Mode = iota + 1
	// ModeHMAC: HMAC-SHA256 with a key shared by the whole group. Any
	// holder of the key can sign as anyone; no certificates, no fetches.
	ModeHMAC
	// ModeChain: Ed25519, ECDSA or RSA keys with certificates that chain to
	// trust anchors under a trust schema (what ndnd's TrustConfig does).
	ModeChain
)

// String returns "digest", "hmac" or "chain".
func (m Mode) String() string {
	switch m {
	case ModeDigest:
		return "digest"
	case ModeHMAC:
		return "hmac"
	case ModeChain:
		return "chain"
	}
	return "unknown"
}

// Defaults of the Config fields left zero. The fetch bounds exist because
// every KeyLocator a received packet names is attacker-chosen: without
// them one peer can make the node send any number of certificate
// Interests (ndnd v1.5.3's TrustConfig has none of them).
const (
	// DefaultMaxCerts bounds the cache of validated certificates fetched
	// from the network (anchors and the node's own chain are not counted).
	// A group of a few hundred members with an intermediate each fits.
	DefaultMaxCerts = 1024
	// DefaultFetchTimeout ends a fetch whose Fetcher never calls back, so
	// that a lost callback cannot hold waiters for ever. It exceeds
	// ndnd's default Interest lifetime (4 s) with a retry's margin.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultNegativeTTL is how long a certificate name whose fetch or
	// validation failed is refused without asking the network again. It
	// is short enough that a member whose certificate was published late
	// is accepted within a few periodic Sync Interests (30 s each).
	DefaultNegativeTTL = 30 * time.Second
	// DefaultMaxFetches bounds the certificate fetches in flight at once.
	DefaultMaxFetches = 8
	// DefaultFetchRate and DefaultFetchBurst are a token bucket over all
	// fetches (chain fetches included): at most FetchBurst at once, then
	// FetchRate per second. A group that joins at once (every member
	// unknown) is learnt within a few seconds; a flood of invented names
	// costs at most this many Interests.
	DefaultFetchRate  = 10.0
	DefaultFetchBurst = 20
	// DefaultMaxChain bounds the certificates fetched to validate one
	// packet's signer (member, intermediate, ...) before reaching a
	// trusted one. Deeper hierarchies are rare in NDN deployments.
	DefaultMaxChain = 4
	// MinHMACKey is the shortest HMAC key accepted: 16 bytes (128 bits).
	// A shorter key is guessable offline from any one captured packet,
	// since each carries a MAC over known bytes; RFC 2104 recommends at
	// least the hash output (32 bytes), which is what to generate.
	MinHMACKey = 16
)

// Config says how to sign and what to accept. Files are read once, by New;
// nothing is ever written.
type Config struct {
	// Signer is "digest" (the default, "" too; integrity only), "ed25519",
	// "ecdsa", "rsa" (the three chain modes) or "hmac".
	Signer string
	// KeyFiles are ndnd `sec` files: PEM "NDN KEY"/"NDN CERT" blocks or
	// one raw TLV Data each. Together they hold the node's key, its
	// certificate and the intermediates up to an anchor. Chain modes only.
	KeyFiles []string
	// Key is the key to sign with: a key name /<id>/KEY/<kid> or an
	// identity /<id> that has exactly one key in KeyFiles. "" means the
	// only key in KeyFiles.
	Key string
	// Anchors are certificate files of the trust anchors (full names and
	// validity come from the files, not from hand-typed strings).
	Anchors []string
	// Schema is the trust schema (an LVS model, *trust_schema.LvsSchema).
	// Required for chain modes; it decides which certificate may sign
	// which name.
	Schema ndn.TrustSchema
	// SignNames are names the node will sign (its group prefixes, a sample
	// publication name). New fails unless the node's certificate may sign
	// each one under Schema (see CanSign), so a misconfigured member stops
	// at start instead of being silently refused by every peer.
	SignNames []enc.Name
	// HMACKey is the group's shared key for "hmac", at least MinHMACKey
	// bytes.
	HMACKey []byte
	// AllowCrossSchema accepts a Data that carries a CrossSchema (TLV
	// 600). The delegation is not honoured: the Data must still pass the
	// schema with its own signer. Default false: such a Data is refused,
	// because ndnd would honour it and a strict group must not depend on
	// delegations its members cannot see.
	AllowCrossSchema bool

	// MaxCerts bounds the validated-certificate cache (DefaultMaxCerts);
	// the oldest entry is evicted first.
	MaxCerts int
	// FetchTimeout ends a fetch whose Fetcher has not answered
	// (DefaultFetchTimeout). It runs on the real clock, not Clock: it
	// guards against a lost callback, not a protocol deadline.
	FetchTimeout time.Duration
	// NegativeTTL is how long a failed certificate name stays refused
	// (DefaultNegativeTTL).
	NegativeTTL time.Duration
	// MaxFetches bounds concurrent fetches (DefaultMaxFetches).
	MaxFetches int
	// FetchRate (per second) and FetchBurst bound fetches globally with a
	// token bucket (DefaultFetchRate, DefaultFetchBurst).
	FetchRate  float64
	FetchBurst int
	// MaxChain bounds the certificates fetched for one packet
	// (DefaultMaxChain).
	MaxChain int

	// Clock gives the time for validity checks and the limiter (time.Now
	// when nil); tests pass a fake one.
	Clock func() time.Time
}

// withDefaults returns cfg with zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Signer == "" {
		cfg.Signer = "digest"
	}
	if cfg.MaxCerts <= 0 {
		cfg.MaxCerts = DefaultMaxCerts
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = DefaultNegativeTTL
	}
	if cfg.MaxFetches <= 0 {
		cfg.MaxFetches = DefaultMaxFetches
	}
	if cfg.FetchRate <= 0 {
		cfg.FetchRate = DefaultFetchRate
	}
	if cfg.FetchBurst <= 0 {
		cfg.FetchBurst = DefaultFetchBurst
	}
	if cfg.MaxChain <= 0 {
		cfg.MaxChain = DefaultMaxChain
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return cfg
}
