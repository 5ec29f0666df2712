package config

import (
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		in   string
		want ndnName // nil with err set
		err  string
	}{
		{in: "/", want: ndnName{}},
		{in: "/ndn/svs", want: ndnName{{8, "ndn"}, {8, "svs"}}},
		{in: "/ndn/svs/", want: ndnName{{8, "ndn"}, {8, "svs"}}},
		{in: "/A-z_0.9~", want: ndnName{{8, "A-z_0.9~"}}},
		{in: "/a%2Fb%20c", want: ndnName{{8, "a/b c"}}},
		{in: "/%00%ff", want: ndnName{{8, "\x00\xff"}}},
		{in: "/8=abc", want: ndnName{{8, "abc"}}},
		{in: "/32=kw", want: ndnName{{32, "kw"}}},
		{in: "/65535=x", want: ndnName{{65535, "x"}}},
		{in: "/v=3", want: ndnName{{0x36, "\x03"}}},
		{in: "/seg=0", want: ndnName{{0x32, "\x00"}}},
		{in: "/seg=256", want: ndnName{{0x32, "\x01\x00"}}},
		{in: "/off=65536", want: ndnName{{0x34, "\x00\x01\x00\x00"}}},
		{in: "/t=4294967296", want: ndnName{{0x38, "\x00\x00\x00\x01\x00\x00\x00\x00"}}},
		{in: "/seq=18446744073709551615", want: ndnName{{0x3a, "\xff\xff\xff\xff\xff\xff\xff\xff"}}},
		{in: "/v=007", want: ndnName{{0x36, "\x07"}}},
		{in: "/...%2E", want: ndnName{{8, "...."}}},
		{in: "/a.b", want: ndnName{{8, "a.b"}}},

		{in: "", err: "empty name"},
		{in: "ndn/svs", err: `must start with "/"`},
		{in: "ndn:/svs", err: `must start with "/"`},
		{in: "//", err: "empty component"},
		{in: "/a//b", err: "component 2: empty component"},
		{in: "/a//", err: "empty component"},
		{in: "/a b", err: `character ' ' must be written as %20`},
		{in: "/é", err: "byte 0xC3 must be written as %C3"},
		{in: "/a%2", err: "two hexadecimal digits"},
		{in: "/a%zz", err: "two hexadecimal digits"},
		{in: "/a%", err: "two hexadecimal digits"},
		{in: "/.", err: "periods only"},
		{in: "/..", err: "periods only"},
		{in: "/...", err: "periods only"},
		{in: "/8=...", err: "periods only"},
		{in: "/=x", err: "no type before"},
		{in: "/a=b=c", err: `more than one "="`},
		{in: "/x=1", err: `unknown component type "x"`},
		{in: "/V=1", err: "unknown component type"},
		{in: "/0=a", err: "out of range 1..65535"},
		{in: "/65536=a", err: "out of range 1..65535"},
		{in: "/+8=a", err: "unknown component type"},
		{in: "/1=a", err: "digest components are not allowed"},
		{in: "/2=a", err: "digest components are not allowed"},
		{in: "/sha256digest=" + strings.Repeat("00", 32), err: "digest components are not allowed"},
		{in: "/params-sha256=" + strings.Repeat("00", 32), err: "digest components are not allowed"},
		{in: "/v=", err: "want a decimal number"},
		{in: "/v=-1", err: "want a decimal number"},
		{in: "/v=1.5", err: "want a decimal number"},
		{in: "/v=18446744073709551616", err: "number out of range"},
		{in: "/8=", err: "empty component value"},
	}
	for _, tt := range tests {
		got, err := parseName(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseName(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseName(%q): %v", tt.in, err)
			continue
		}
		if got.key() != tt.want.key() || len(got) != len(tt.want) {
			t.Errorf("parseName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNameKey(t *testing.T) {
	same := [][]string{
		{"/a/b", "/a/b/", "/%61/8=b", "/8=%61/%62"},
		{"/v=1", "/v=01", "/54=%01"},
		{"/", "/"},
	}
	for _, group := range same {
		first, _ := parseName(group[0])
		for _, s := range group[1:] {
			n, err := parseName(s)
			if err != nil || n.key() != first.key() {
				t.Errorf("%q and %q should be the same name (err %v)", group[0], s, err)
			}
		}
	}
	a, _ := parseName("/a/b")
	b, _ := parseName("/a/32=b")
	c, _ := parseName("/ab")
	if a.key() == b.key() || a.key() == c.key() {
		t.Error("different names share a key")
	}
	for _, s := range []string{"/localhost", "/localhost/nfd", "/8=localhost"} {
		if n, _ := parseName(s); !n.isLocalhost() {
			t.Errorf("%s should be under /localhost", s)
		}
	}
	for _, s := range []string{"/", "/localhop", "/32=localhost", "/a/localhost"} {
		if n, _ := parseName(s); n.isLocalhost() {
			t.Errorf("%s should not be under /localhost", s)
		}
	}
}

// ndnd v1.5.3 encodes a component of 253 bytes or more with a wrong
// TLV-LENGTH, and checkName refuses such components: 252 bytes round-trip
// through ndnd's encoder and parser, 253 do not, and checkName names the
// component.
func TestNdndMisencodesLongComponents(t *testing.T) {
	for _, n := range []int{252, 253, 300} {
		c := enc.NewGenericBytesComponent([]byte(strings.Repeat("a", n)))
		b := c.Bytes()
		r := enc.NewBufferView(b)
		back, err := r.ReadComponent()
		roundTrips := err == nil && back.Equal(c)
		if roundTrips != (n < maxComponentLen) {
			t.Errorf("%d bytes: ndnd's encoding %x... round-trips %v (err %v); want %v", n, b[:4], roundTrips, err, n < maxComponentLen)
		}
		_, err = checkName("/ok/" + strings.Repeat("a", n))
		if refused := err != nil; refused != (n >= maxComponentLen) {
			t.Errorf("checkName with a %d-byte component: %v", n, err)
		} else if refused && !strings.Contains(err.Error(), "component 2: ") {
			t.Errorf("checkName with a %d-byte component: %v, want component 2 named", n, err)
		}
	}
}
