package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// NDN name component types that have a textual alternate form in the URI scheme python-ndn's
// compiler accepts inside quoted components.
const (
	typeImplicitSha256 = 0x01
	typeParamsSha256   = 0x02
	typeGeneric        = 0x08
	typeSegment        = 0x32
	typeByteOffset     = 0x34
	typeVersion        = 0x36
	typeTimestamp      = 0x38
	typeSequenceNum    = 0x3a
	maxComponentType   = 65535
)

var numberTypes = map[string]uint64{
	"seg": typeSegment,
	"off": typeByteOffset,
	"v":   typeVersion,
	"t":   typeTimestamp,
	"seq": typeSequenceNum,
}

// parseComponent turns the text between the quotes of an LVS string into the TLV of one name
// component, accepting exactly the strings python-ndn's Component.from_str accepts and giving
// the same bytes: a model compiled here must compare equal, component by component, with one
// compiled there, because ndnd matches value edges on the whole TLV.
func parseComponent(s string) ([]byte, error) {
	if s == "" {
		return []byte{typeGeneric, 0}, nil
	}
	eq := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !componentChar(c) {
			return nil, fmt.Errorf("character %q is not allowed in a component (write it as %%XX)", rune(c))
		}
		if c == '=' {
			if eq >= 0 {
				return nil, errors.New("more than one '=' (type separator) in a component")
			}
			eq = i
		}
	}
	typ := uint64(typeGeneric)
	val := s
	if eq >= 0 {
		typStr, rest := s[:eq], s[eq+1:]
		switch typStr {
		case "sha256digest":
			return hexComponent(typeImplicitSha256, rest)
		case "params-sha256":
			return hexComponent(typeParamsSha256, rest)
		}
		if nt, ok := numberTypes[typStr]; ok {
			n, err := pyUint(rest)
			if err != nil {
				return nil, fmt.Errorf("%s= needs a number: %w", typStr, err)
			}
			return numberComponent(nt, n), nil
		}
		t, err := pyUint(typStr)
		if err != nil {
			return nil, fmt.Errorf("type %q is not a number: %w", typStr, err)
		}
		if t == 0 || t > maxComponentType {
			return nil, fmt.Errorf("type number %s not in range 0<T<=65535", typStr)
		}
		typ, val = t, rest
	}
	value := make([]byte, 0, len(val))
	for i := 0; i < len(val); i++ {
		if val[i] != '%' {
			value = append(value, val[i])
			continue
		}
		if i+2 >= len(val) {
			return nil, errors.New("'%' must be followed by two hex digits")
		}
		b, ok := pyHexByte(val[i+1 : i+3])
		if !ok {
			return nil, fmt.Errorf("%q is not a percent escape of one byte", val[i:i+3])
		}
		value = append(value, b)
		i += 2
	}
	return appendTLV(nil, typ, value), nil
}

func componentChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~=%", c) >= 0
}

// pyHexByte reads the two characters after a '%' the way python-ndn does, with Python's
// int(s, 16): two hex digits, or the odd "-0" (minus zero), which Python reads as 0.
func pyHexByte(s string) (byte, bool) {
	if s == "-0" {
		return 0, true
	}
	hi, ok1 := hexVal(s[0])
	lo, ok2 := hexVal(s[1])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pyUint reads a decimal number the way Python's int(s) does for the characters a component
// may hold (an optional '-', digits, single '_' between digits), and keeps it only if it fits
// a TLV NonNegativeInteger, as python-ndn's packing requires.
func pyUint(s string) (uint64, error) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if s == "" {
		return 0, errors.New("empty number")
	}
	var n uint64
	overflow := false
	prevDigit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			d := uint64(c - '0')
			if n > (math.MaxUint64-d)/10 {
				overflow = true
			}
			n = n*10 + d
			prevDigit = true
		case c == '_' && prevDigit && i+1 < len(s):
			prevDigit = false
		default:
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	if !prevDigit {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	if overflow {
		return 0, errors.New("number does not fit in 64 bits")
	}
	if neg && n != 0 {
		return 0, errors.New("number is negative")
	}
	return n, nil
}

func hexComponent(typ uint64, s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	value := make([]byte, len(s)/2)
	for i := range value {
		hi, ok1 := hexVal(s[2*i])
		lo, ok2 := hexVal(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%q is not hex", s)
		}
		value[i] = hi<<4 | lo
	}
	return appendTLV(nil, typ, value), nil
}

// numberComponent encodes n in 1, 2, 4 or 8 bytes, the shortest that holds it.
func numberComponent(typ, n uint64) []byte {
	var b [8]byte
	var v []byte
	switch {
	case n <= math.MaxUint8:
		v = []byte{byte(n)}
	case n <= math.MaxUint16:
		binary.BigEndian.PutUint16(b[:], uint16(n))
		v = b[:2]
	case n <= math.MaxUint32:
		binary.BigEndian.PutUint32(b[:], uint32(n))
		v = b[:4]
	default:
		binary.BigEndian.PutUint64(b[:], n)
		v = b[:8]
	}
	return appendTLV(nil, typ, v)
}

func appendTLV(buf []byte, typ uint64, value []byte) []byte {
	buf = appendVarNum(buf, typ)
	buf = appendVarNum(buf, uint64(len(value)))
	return append(buf, value...)
}

func appendVarNum(buf []byte, n uint64) []byte {
	switch {
	case n < 253:
		return append(buf, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(buf, 0xfd), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(buf, 0xfe), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(buf, 0xff), n)
	}
}
