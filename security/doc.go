// Package security signs and validates the packets of an SVS node: the
// State Vector Data inside every Sync Interest (/<group>/v=3, or ndnd's
// /<group>/v=<µs>) and publications (/<group>/<node>/t=<boot>/seq=<n>/...).
// It interoperates with ndnd v1.5.3's secured SvSync (object client,
// sec.TrustConfig, LightVerSec schema): same signers, same KeyLocator,
// same name the schema is checked against.
//
// # Modes
//
// Config.Signer chooses one of three modes:
//
//   - digest (default): DigestSha256. It detects corruption, nothing else:
//     anyone can compute it, so it is no authentication.
//   - hmac: HMAC-SHA256 with a key the group shares. Whoever holds the key
//     can sign as any member; there are no certificates to fetch.
//   - ed25519, ecdsa, rsa (chain mode): the node signs with its key, named
//     by its certificate; received packets must be signed by a
//     certificate that chains to a trust anchor, each link allowed by the
//     trust schema, each certificate within its validity period now.
//
// # Why our own chain walker
//
// ndnd's sec.TrustConfig would validate the same chains, but in v1.5.3 it
// keeps expired certificates for five minutes, writes fetched
// certificates into a directory keychain, fetches any KeyLocator without
// bound, de-duplication or negative cache, honours CrossSchema
// delegations, reports errors as strings, keeps the packet it validates
// across an asynchronous fetch (our packet buffers are reused) and parses
// the signer's public key on every packet. The walker here uses ndnd's
// primitives (the schema's Check, the certificate format, the signers)
// and none of that: every refusal has a Reason, certificates are checked
// strictly against Config.Clock, fetches are single-flight, bounded in
// rate and concurrency and negatively cached, and Validate never blocks
// (a needed fetch gives a *wire.PendingError whose Ready closes when
// asking again gives an answer).
//
// # Chain validation
//
// The name checked against the schema is the Data name without a trailing
// segment, then version, then 32=metadata, as ndnd's object client does;
// so a group's schema rule for State Vector Data is written for /<group>.
// The KeyLocator may name the key, the certificate, or the certificate
// minus its version (ndnd's Suggest form); all three find a cached
// certificate. Only validated certificates enter the cache: a fetched one
// is trusted after its own chain reaches an anchor or a cached
// certificate, within Config.MaxChain fetches. A failure is cached for
// Config.NegativeTTL, or, when the fetch went unanswered (its holder may not
// be up yet), for one second doubled per consecutive unanswered fetch up to
// NegativeTTL, with its reason (so a fetched non-certificate is
// refused as bad_certificate, a vanished one as unknown_key); a refusal by
// the limiter (fetch_limited) is not cached, since asking later may pass.
//
// Every KeyLocator in a received packet is chosen by its sender, so
// nothing is fetched for a packet the schema refuses anyway: its name must
// match a rule some key may sign (asked of an *trust_schema.LvsSchema;
// another TrustSchema lets every name through), and a KeyLocator that is
// a certificate name (with or without version) must be allowed to sign
// it. A key-name KeyLocator lacks the issuer, so it is checked once the
// certificate arrives. An LVS model with a user function ($fn), which
// ndnd v1.5.3 loads but panics on, refuses the names that reach it.
//
// # Loading
//
// New reads files only (never ndnd's KeyChainDir, which creates and writes
// its directory) and refuses to start, naming the file, on: a missing or
// unparseable file; no key, or several when Config.Key does not choose;
// a key of another type than Signer; no certificate of the key valid now,
// or one that does not hold the key; an anchor that is expired, not yet
// valid or has no ValidityPeriod; the node's certificate not chaining to
// an anchor through KeyFiles, each link valid and allowed by the schema;
// a name of Config.SignNames the node may not sign; an HMAC key shorter
// than MinHMACKey. ndnd itself only logs most of these, and a member so
// misconfigured sends nothing or is refused by every peer.
//
// # Threat model, and what is not covered
//
// A valid State Vector Data can be replayed until its signer's
// certificate expires (neither ndnd nor NDNts check SignatureTime); SVS
// merges vectors with max, so a replay cannot lower a sequence number.
// Any member may sign the group's State Vector Data (ndnd names it
// /<group>/v=<µs>, with no node in it): the authenticity of a member's
// publications comes from schema rules on publication names that bind
// the node's name to its key.
package security
