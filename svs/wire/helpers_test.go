package wire

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

var (
	vectorsOnce sync.Once
	vectorsMap  map[string][]byte
	vectorsErr  error
)

// loadVectors reads testdata/vectors.txt (its header says where the vectors
// come from).
func loadVectors() (map[string][]byte, error) {
	vectorsOnce.Do(func() {
		f, err := os.Open("testdata/vectors.txt")
		if err != nil {
			vectorsErr = err
			return
		}
		defer f.Close()
		m := make(map[string][]byte)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			label, h, ok := strings.Cut(line, " ")
			if !ok {
				vectorsErr = os.ErrInvalid
				return
			}
			b, err := hex.DecodeString(strings.TrimSpace(h))
			if err != nil {
				vectorsErr = err
				return
			}
			m[label] = b
		}
		vectorsMap, vectorsErr = m, sc.Err()
	})
	return vectorsMap, vectorsErr
}

// tv returns the test vector with the given label.
func tv(tb testing.TB, label string) []byte {
	tb.Helper()
	m, err := loadVectors()
	if err != nil {
		tb.Fatalf("loading testdata/vectors.txt: %v", err)
	}
	b, ok := m[label]
	if !ok {
		tb.Fatalf("no vector %q in testdata/vectors.txt", label)
	}
	return bytes.Clone(b)
}

// name parses an NDN URI.
func name(tb testing.TB, uri string) enc.Name {
	tb.Helper()
	n, err := enc.NameFromStr(uri)
	if err != nil {
		tb.Fatalf("NameFromStr(%q): %v", uri, err)
	}
	return n
}

// cname parses an NDN URI into a core.Name.
func cname(tb testing.TB, uri string) core.Name {
	tb.Helper()
	return NameToCore(name(tb, uri))
}

// entry is a core.Entry with the node given as a URI.
func entry(tb testing.TB, uri string, boot, seq uint64) core.Entry {
	tb.Helper()
	return core.Entry{Node: cname(tb, uri), Boot: boot, Seq: seq}
}

// sameVector reports whether a and b hold the same entries.
func sameVector(a, b *core.Vector) bool {
	ea, eb := a.Entries(), b.Entries()
	if len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		if ea[i] != eb[i] {
			return false
		}
	}
	return true
}

// tlv builds a TLV element by hand (tests only).
func tlv(typ uint64, value ...[]byte) []byte {
	v := bytes.Join(value, nil)
	return append(appendTL(nil, typ, len(v)), v...)
}

// rawInterest builds an unsigned Interest by hand: Name = nameValue +
// ParametersSha256Digest (computed over params, the whole
// ApplicationParameters TLV, and trailer, which follows it), then middle
// (elements between the Name and ApplicationParameters), then params and
// trailer. It is how the negative tests make packets that are wrong in one
// place only.
func rawInterest(nameValue, middle, params, trailer []byte) []byte {
	h := sha256.New()
	h.Write(params)
	h.Write(trailer)
	d := h.Sum(nil)
	nm := tlv(typeName, nameValue, tlv(typeParametersDigest, d))
	return tlv(typeInterest, nm, middle, params, trailer)
}

// stdMiddle is Nonce 0x01020304 and InterestLifetime 1000 ms.
var stdMiddle = []byte{0x0a, 0x04, 0x01, 0x02, 0x03, 0x04, 0x0c, 0x02, 0x03, 0xe8}

// rawData builds a State Vector Data by hand with a DigestSha256
// signature. meta may be nil.
func rawData(nameValue, meta, content []byte) []byte {
	cov := bytes.Join([][]byte{tlv(typeName, nameValue), meta, tlv(typeContent, content), {0x16, 0x03, 0x1b, 0x01, 0x00}}, nil)
	sum := sha256.Sum256(cov)
	return tlv(typeData, cov, tlv(typeSignatureValue, sum[:]))
}

// nv returns the Name TLV-VALUE of an NDN URI.
func nv(tb testing.TB, uri string) []byte {
	tb.Helper()
	return []byte(cname(tb, uri))
}
