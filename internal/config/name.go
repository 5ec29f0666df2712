package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"
)

// NDN name component types used in name URIs (NDN Packet Format v0.3,
// "Name"; NDN naming conventions rev. 3).
const (
	typeImplicitDigest = 0x01
	typeParamsDigest   = 0x02
	typeGeneric        = 0x08
	typeSegment        = 0x32
	typeByteOffset     = 0x34
	typeVersion        = 0x36
	typeTimestamp      = 0x38
	typeSequenceNum    = 0x3a
)

// numberTypes maps the URI keywords of the naming conventions whose value is
// a NonNegativeInteger to their TLV types.
var numberTypes = map[string]uint16{
	"seg": typeSegment,
	"off": typeByteOffset,
	"v":   typeVersion,
	"t":   typeTimestamp,
	"seq": typeSequenceNum,
}

// component is one parsed name component.
type component struct {
	typ uint16
	val string
}

// ndnName is a parsed NDN name. The empty name is "/".
type ndnName []component

// key returns a string equal for two names exactly when they are the same
// name, whatever URI spelling they were written in.
func (n ndnName) key() string {
	var b strings.Builder
	for _, c := range n {
		fmt.Fprintf(&b, "/%d=%x", c.typ, c.val)
	}
	return b.String()
}

// uri returns the canonical URI of n: keywords for the naming conventions,
// %XX escapes for every byte that is not unreserved, and for every period of
// a text made only of periods.
func (n ndnName) uri() string {
	if len(n) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, c := range n {
		b.WriteByte('/')
		if kw := numberKeyword(c.typ); kw != "" && canonicalNumber(c.val) {
			var v uint64
			for i := 0; i < len(c.val); i++ {
				v = v<<8 | uint64(c.val[i])
			}
			b.WriteString(kw + "=" + strconv.FormatUint(v, 10))
			continue
		}
		if c.typ != typeGeneric {
			b.WriteString(strconv.Itoa(int(c.typ)) + "=")
		}
		periods := strings.Trim(c.val, ".") == ""
		for i := 0; i < len(c.val); i++ {
			if ch := c.val[i]; isUnreserved(ch) && !periods {
				b.WriteByte(ch)
			} else {
				fmt.Fprintf(&b, "%%%02X", ch)
			}
		}
	}
	return b.String()
}

// canonicalNumber reports whether val is a NonNegativeInteger in its
// shortest encoding (1, 2, 4 or 8 bytes), which "seg=N" and the other
// keyword forms stand for; any other value of a number type is spelled
// "50=%30%30%30" so that it parses back to the same bytes (FuzzParseName
// found "/50=000" printed as "/seg=3158064", which parses to 4 bytes).
func canonicalNumber(val string) bool {
	var v uint64
	for i := 0; i < len(val); i++ {
		v = v<<8 | uint64(val[i])
	}
	switch {
	case v <= 0xFF:
		return len(val) == 1
	case v <= 0xFFFF:
		return len(val) == 2
	case v <= 0xFFFFFFFF:
		return len(val) == 4
	}
	return len(val) == 8
}

func numberKeyword(typ uint16) string {
	for kw, t := range numberTypes {
		if t == typ {
			return kw
		}
	}
	return ""
}

// isLocalhost reports whether n is under /localhost, the forwarder's own
// namespace: such prefixes never leave the host and /localhost/nfd is the
// management protocol.
func (n ndnName) isLocalhost() bool {
	return len(n) > 0 && n[0].typ == typeGeneric && n[0].val == "localhost"
}

// maxComponentLen is the least component length checkName refuses: ndnd
// v1.5.3's encoding.Component.EncodeInto writes a component's TLV-LENGTH
// as a NonNegativeInteger (Nat), which is a VAR-NUMBER only below 253
// (TestNdndMisencodesLongComponents).
const maxComponentLen = 253

// checkName parses an NDN name from the configuration: parseName must
// accept it, and so must ndnd's encoding.NameFromStr, which the forwarder
// and the strategy package will call on it. parseName goes first because
// NameFromStr panics on some inputs ("/=x") and accepts spellings that other
// NDN software reads differently ("/...", "/a//b", "/a b").
func checkName(s string) (ndnName, error) {
	n, err := parseName(s)
	if err != nil {
		return nil, err
	}
	for i, c := range n {
		if len(c.val) >= maxComponentLen {
			return nil, fmt.Errorf("component %d: %d bytes, over %d: ndnd v1.5.3 encodes the TLV-LENGTH of a component of 253 bytes or more wrongly (as a NonNegativeInteger), so packets under this name would be malformed", i+1, len(c.val), maxComponentLen-1)
		}
	}
	if _, err := enc.NameFromStr(s); err != nil {
		return nil, fmt.Errorf("ndnd rejects it: %w", err)
	}
	return n, nil
}

// parseName parses an NDN name written as a URI, stricter than ndnd's
// encoding.NameFromStr but with the same meaning for every name it accepts
// (name_ndnd_test.go checks both claims):
//
//   - it starts with "/"; "/" alone is the empty name; one trailing "/" is
//     ignored;
//   - components are separated by single slashes, none is empty;
//   - a component is either text (generic, type 8) or TYPE=VALUE, where TYPE
//     is a decimal TLV type in 1..65535 (text value) or one of the keywords
//     seg, off, v, t, seq (decimal value);
//   - text is made of letters, digits, "-", ".", "_", "~" and %XX escapes; a
//     text made of periods only is refused, since the NDN URI scheme and
//     ndnd read it differently;
//   - digest components (sha256digest=, params-sha256=, types 1 and 2) are
//     refused: they have no place in a routing or sync prefix.
//
// The error messages do not repeat s; callers do.
func parseName(s string) (ndnName, error) {
	if s == "" {
		return nil, errors.New("empty name")
	}
	if s[0] != '/' {
		return nil, errors.New(`a name must start with "/"`)
	}
	body := s[1:]
	if body == "" {
		return ndnName{}, nil
	}
	body = strings.TrimSuffix(body, "/")
	parts := strings.Split(body, "/")
	n := make(ndnName, 0, len(parts))
	for i, p := range parts {
		c, err := parseComponent(p)
		if err != nil {
			return nil, fmt.Errorf("component %d: %w", i+1, err)
		}
		n = append(n, c)
	}
	return n, nil
}

func parseComponent(s string) (component, error) {
	if s == "" {
		return component{}, errors.New(`empty component ("//")`)
	}
	typStr, valStr, typed := strings.Cut(s, "=")
	if !typed {
		val, err := parseText(s)
		return component{typ: typeGeneric, val: val}, err
	}
	if strings.Contains(valStr, "=") {
		return component{}, fmt.Errorf("%s: more than one %q", quote(s), "=")
	}
	if typStr == "" {
		return component{}, fmt.Errorf("%s: no type before %q", quote(s), "=")
	}
	if typStr == "sha256digest" || typStr == "params-sha256" {
		return component{}, fmt.Errorf("%s: digest components are not allowed in a prefix", quote(s))
	}
	if typ, ok := numberTypes[typStr]; ok {
		val, err := parseNumber(valStr)
		if err != nil {
			return component{}, fmt.Errorf("%s: %w", quote(s), err)
		}
		return component{typ: typ, val: val}, nil
	}
	if !allDigits(typStr) {
		return component{}, fmt.Errorf("%s: unknown component type %s (want a number or one of seg, off, v, t, seq)", quote(s), quote(typStr))
	}
	t, err := strconv.ParseUint(typStr, 10, 16)
	if err != nil || t == 0 {
		return component{}, fmt.Errorf("%s: component type out of range 1..65535", quote(s))
	}
	if t == typeImplicitDigest || t == typeParamsDigest {
		return component{}, fmt.Errorf("%s: digest components are not allowed in a prefix", quote(s))
	}
	val, err := parseText(valStr)
	if err != nil {
		return component{}, err
	}
	return component{typ: uint16(t), val: val}, nil
}

// parseText decodes the text form of a component value.
func parseText(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty component value")
	}
	if strings.Trim(s, ".") == "" {
		return "", fmt.Errorf("%s: a component of periods only is ambiguous (write %%2E for a period)", quote(s))
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUnreserved(c):
			b.WriteByte(c)
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("%s: %% must be followed by two hexadecimal digits", quote(s))
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c < 0x20 || c >= 0x7f:
			return "", fmt.Errorf("%s: byte 0x%02X must be written as %%%02X", quote(s), c, c)
		default:
			return "", fmt.Errorf("%s: character %q must be written as %%%02X", quote(s), rune(c), c)
		}
	}
	return b.String(), nil
}

// parseNumber encodes a decimal string as a NonNegativeInteger: big-endian
// in 1, 2, 4 or 8 bytes, the fewest that hold it.
func parseNumber(s string) (string, error) {
	if s == "" || !allDigits(s) {
		return "", errors.New("want a decimal number")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return "", errors.New("number out of range")
	}
	size := 8
	switch {
	case v <= 0xff:
		size = 1
	case v <= 0xffff:
		size = 2
	case v <= 0xffffffff:
		size = 4
	}
	buf := make([]byte, size)
	for i := size - 1; i >= 0; i-- {
		buf[i] = byte(v)
		v >>= 8
	}
	return string(buf), nil
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
