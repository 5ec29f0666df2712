package security

import "fmt"

// Reason says why Validate refused a packet. Its String is the value of a
// metric label, so the set is small and fixed: every rejection is counted
// under exactly one of Reasons.
type Reason uint8

// The reasons, in the order of the checks that produce them.
const (
	// ReasonUnsigned: no signature, a Null (type 200) one, or DigestSha256
	// where the group requires keys.
	ReasonUnsigned Reason = iota + 1
	// ReasonSignatureType: a signature type the group does not use.
	ReasonSignatureType
	// ReasonNoKeyLocator: no KeyLocator, a KeyDigest one, or a name that is
	// neither a key name, a certificate name nor one minus its version.
	ReasonNoKeyLocator
	// ReasonCrossSchema: the Data carries a CrossSchema (TLV 600), a
	// delegation ndnd would honour and a strict group refuses.
	ReasonCrossSchema
	// ReasonSchema: the name, or the name with its signer, is outside the
	// trust schema.
	ReasonSchema
	// ReasonBadSignature: the signature value does not verify.
	ReasonBadSignature
	// ReasonExpired: a certificate of the chain is outside its validity
	// period now (strictly: no grace period).
	ReasonExpired
	// ReasonUnknownKey: the signer's certificate is not known and could
	// not be fetched (no fetcher, fetch failed, or negatively cached).
	ReasonUnknownKey
	// ReasonFetchLimited: a fetch was needed but the rate or concurrency
	// bound refused it. Asking again later may succeed.
	ReasonFetchLimited
	// ReasonBadCertificate: what came back for a certificate name is not a
	// certificate (ContentType, name form, no ValidityPeriod, ...).
	ReasonBadCertificate
	// ReasonChainTooLong: reaching a trusted certificate needs more than
	// Config.MaxChain fetched certificates.
	ReasonChainTooLong

	reasonEnd // one past the last reason
)

// Reasons lists every Reason, for metrics that pre-create their labels.
var Reasons = []Reason{
	ReasonUnsigned, ReasonSignatureType, ReasonNoKeyLocator, ReasonCrossSchema,
	ReasonSchema, ReasonBadSignature, ReasonExpired, ReasonUnknownKey,
	ReasonFetchLimited, ReasonBadCertificate, ReasonChainTooLong,
}

var reasonNames = [reasonEnd]string{
	ReasonUnsigned:       "unsigned",
	ReasonSignatureType:  "signature_type",
	ReasonNoKeyLocator:   "no_key_locator",
	ReasonCrossSchema:    "cross_schema",
	ReasonSchema:         "schema",
	ReasonBadSignature:   "bad_signature",
	ReasonExpired:        "expired",
	ReasonUnknownKey:     "unknown_key",
	ReasonFetchLimited:   "fetch_limited",
	ReasonBadCertificate: "bad_certificate",
	ReasonChainTooLong:   "chain_too_long",
}

// String returns the reason's metric label, e.g. "bad_signature".
func (r Reason) String() string {
	if r > 0 && r < reasonEnd {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason_%d", uint8(r))
}

// RejectError is Validate's refusal of a packet. Err, if not nil, gives
// the detail (which certificate, which name); Reason is what to count.
type RejectError struct {
	Reason Reason
	Err    error
}

func (e *RejectError) Error() string {
	if e.Err == nil {
		return "security: rejected: " + e.Reason.String()
	}
	return "security: rejected: " + e.Reason.String() + ": " + e.Err.Error()
}

// Unwrap returns the detail.
func (e *RejectError) Unwrap() error { return e.Err }

// reject builds a RejectError with a formatted detail.
func reject(r Reason, format string, args ...any) *RejectError {
	return &RejectError{Reason: r, Err: fmt.Errorf(format, args...)}
}
