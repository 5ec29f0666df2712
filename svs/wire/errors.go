package wire

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of
// them; ErrUnsupportedVersion always comes together with ErrMalformed or
// ErrWrongName. Test with errors.Is.
var (
	// ErrMalformed: the bytes are not a well-formed packet or TLV of the
	// expected shape (truncated, a length past the end, an invalid integer,
	// a missing or repeated element, an unknown critical element, ...).
	ErrMalformed = errors.New("wire: malformed")
	// ErrWrongName: a Sync Interest or State Vector Data name, or a
	// publication name, does not have the SVS v3 form for this group.
	ErrWrongName = errors.New("wire: wrong name")
	// ErrBadDigest: the ParametersSha256DigestComponent of a Sync Interest
	// does not match its ApplicationParameters.
	ErrBadDigest = errors.New("wire: parameters digest mismatch")
	// ErrValidation: the Validator rejected the State Vector Data.
	ErrValidation = errors.New("wire: validation failed")
	// ErrTooLarge: the input exceeds MaxPacketSize or the vector has more
	// (node, boot) pairs than the configured maximum.
	ErrTooLarge = errors.New("wire: too large")
	// ErrUnsupportedVersion: the packet belongs to another SVS version
	// (v=2 name, bare StateVector in ApplicationParameters, v2 SeqNo 0xCC).
	// It is always wrapped together with ErrMalformed or ErrWrongName.
	ErrUnsupportedVersion = errors.New("wire: unsupported SVS version")
	// ErrInvalidName: a name given to an encoder or conversion is not a
	// valid NDN name for its role (empty node name, bad component).
	ErrInvalidName = errors.New("wire: invalid name")
	// ErrConfig: NewCodec was given an unusable signer or option.
	ErrConfig = errors.New("wire: invalid configuration")
	// ErrSigner: the Signer failed to sign the State Vector Data.
	ErrSigner = errors.New("wire: signing failed")
	// ErrPending: the Validator could not decide yet, typically because
	// the certificate the packet names is being fetched. It comes wrapped
	// together with ErrValidation, by a *PendingError that says when to
	// ask again. A driver holds such a packet (bounded) and decodes it
	// again once PendingError.Ready is closed, instead of counting it
	// invalid.
	ErrPending = errors.New("wire: validation pending")
)

// PendingError is what a Validator returns when it cannot decide yet. The
// Validator never blocks: it starts what it waits for (a certificate
// fetch) and returns at once.
type PendingError struct {
	// Ready is closed when asking again may give an answer: the awaited
	// certificate arrived, or its fetch failed (and asking again then
	// gives the rejection). Several PendingErrors may share one Ready.
	Ready <-chan struct{}
	// Waiting names what the Validator waits for (a certificate or key
	// name), for logs.
	Waiting string
}

func (e *PendingError) Error() string {
	return "validation pending: waiting for " + e.Waiting
}

// Is makes errors.Is(err, ErrPending) true for a PendingError.
func (e *PendingError) Is(target error) bool { return target == ErrPending }

// Low-level TLV errors. They are built once, so that the decoders' inner
// loops never allocate, and wrapped with context by the callers.
var (
	errTruncated        = fmt.Errorf("%w: truncated TLV", ErrMalformed)
	errLengthPastEnd    = fmt.Errorf("%w: TLV-LENGTH past the end of the enclosing element", ErrMalformed)
	errNonMinimalVarNum = fmt.Errorf("%w: VAR-NUMBER not in its shortest form", ErrMalformed)
	errZeroType         = fmt.Errorf("%w: TLV-TYPE 0", ErrMalformed)
	errComponentType    = fmt.Errorf("%w: name component type out of range", ErrMalformed)
	errDigestComponent  = fmt.Errorf("%w: digest name component is not 32 bytes", ErrMalformed)
)

// malformedf returns an error wrapping ErrMalformed.
func malformedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// inElement adds the element being parsed and the offset to an error that
// already wraps a sentinel.
func inElement(what string, off int, err error) error {
	return fmt.Errorf("%w (in %s at offset %d)", err, what, off)
}

// fmtTooLarge returns an error wrapping ErrTooLarge.
func fmtTooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTooLarge}, args...)...)
}

// fmtV2 returns an error wrapping ErrMalformed and ErrUnsupportedVersion.
func fmtV2(what string) error {
	return fmt.Errorf("%w: %w: %s", ErrUnsupportedVersion, ErrMalformed, what)
}
