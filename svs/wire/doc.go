// Package wire is the State Vector Sync v3 wire codec: the StateVector TLV,
// the Sync Interest that carries it, and the names SVS v3 gives to
// publications.
//
// # Formats
//
// [Spec §3] A state vector is
//
//	StateVector      = 0xC9 TLV-LENGTH *StateVectorEntry
//	StateVectorEntry = 0xCA TLV-LENGTH Name *SeqNoEntry
//	SeqNoEntry       = 0xD2 TLV-LENGTH BootstrapTime SeqNo
//	BootstrapTime    = 0xD4 TLV-LENGTH NonNegativeInteger   ; seconds
//	SeqNo            = 0xD6 TLV-LENGTH NonNegativeInteger
//
// with entries in NDN canonical name order and SeqNoEntry elements in
// ascending bootstrap time (what ndnd and NDNts emit). The StateVector
// encoder and decoder are written by hand on []byte: they are on the hot
// path, and ndnd's generated codec allocates per element.
//
// [Spec §2] A Sync Interest is /<group>/v=3/<ParametersSha256Digest>,
// unsigned, InterestLifetime 1 s, whose ApplicationParameters hold one
// signed Data named /<group>/v=3 whose Content is the StateVector. The
// Interest and Data are also laid out by hand, in one buffer, signed in
// place; ndnd's spec_2022 parser is used only to hand a Validator the
// ndn.Data it expects.
//
// # Decisions
//
//   - We send MetaInfo ContentType=BLOB in the State Vector Data, as ndnd
//     does and NDNts does not, so that our packets are byte-identical to
//     ndnd v1.5.3's (test vectors TV7a and TV7b) and can be compared with
//     them in tests. Both forms are accepted.
//   - We send the Data name /<group>/v=3 (NDNts insists on it) and accept
//     /<group>/v=<any version>, because ndnd v1.5.2 and v1.5.3 send
//     v=<Unix µs>.
//   - With no Validator configured every signature type is accepted
//     (DigestSha256, NDNts's Null type 200, ...), as ndnd without trust
//     configuration and NDNts do.
//   - VAR-NUMBERs must be in their shortest form, so that a node name has
//     one byte form and therefore one core.Name. NonNegativeIntegers may
//     be 1, 2, 4 or 8 bytes, minimal or not; other widths are rejected.
//   - Unknown critical TLV types (<= 31 or odd) are rejected, unknown
//     non-critical ones skipped, as in ndnd (NDNts is stricter inside the
//     StateVector). The v2 SeqNo 0xCC is rejected explicitly in v3.
//   - A MappingData (0xCD) after the StateVector in the Content is
//     tolerated and returned raw (SVS-PS v3 piggybacking); we never send
//     one, because ndnd and NDNts both reject it.
//   - Inputs are bounded by MaxPacketSize (64 KiB) and by a configurable
//     number of (node, boot) pairs, DefaultMaxEntries (8192) by default.
//     The future-bootstrap-time rule (24 h) is the engine's, not ours.
//
// # Allocation
//
// AppendStateVectorEntries and, with the default DigestSha256 signer,
// Codec.AppendSyncInterestEntries allocate nothing beyond growing dst; the
// *core.Vector variants add the one slice core.Vector.Entries returns.
// Decoding allocates the core.Vector and one string holding all node names
// of a vector (the names are substrings of it, so a retained name keeps the
// whole string alive). A custom Validator costs ndnd's parse of the Data.
//
// # Threading
//
// The package has no global mutable state. A Codec is immutable after
// NewCodec and may be used from several goroutines at once provided its
// Signer and Validator allow it. Signer.Sign and Validator.Validate are
// called synchronously on the caller's goroutine.
//
// # Errors
//
// Errors wrap the sentinels in errors.go (ErrMalformed, ErrWrongName,
// ErrBadDigest, ErrValidation, ErrTooLarge, ErrUnsupportedVersion, ...).
// Decoders bounds-check every read and never panic on any input.
//
// The [Spec §N] tags refer to the SVS specification, Version 3, as
// published at
// https://github.com/named-data/StateVectorSync/blob/8f0b1c5332ff7e7c56b8c5edc247e5f42b671b11/Specification.md;
// the TLV rules (critical types, integer widths, element order) are the NDN
// packet format v0.3's, https://docs.named-data.net/NDN-packet-spec/current/.
// What ndnd v1.5.3 and NDNts put on the wire where the specification is
// silent is in docs/interop.md ("What each implementation does on the
// wire", and its Sources: the files each fact was read from). The golden
// packets in testdata/vectors.txt were produced by ndnd v1.5.3's and
// NDNts's own encoders; that file says how.
package wire
