package lvs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	ts "github.com/named-data/ndnd/std/security/trust_schema"
)

// Expected bytes follow python-ndn's Component.from_str, including its odd corners
// ("%-0" and "v=-0" are zero, "_" may separate digits, type numbers may have leading zeros).
func TestParseComponent(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "0800"},
		{"KEY", "08034b4559"},
		{"~._-", "08047e2e5f2d"},
		{"32=DV", "20024456"},
		{"8=abc", "0803616263"},
		{"008=a", "080161"},
		{"1_0=x", "0a0178"},
		{"253=x", "fd00fd0178"},
		{"65535=x", "fdffff0178"},
		{"%C1.Router", "0808c12e526f75746572"},
		{"%c1%00", "0802c100"},
		{"%-0", "080100"},
		{"v=0", "360100"},
		{"v=-0", "360100"},
		{"v=256", "36020100"},
		{"seg=1_000", "320203e8"},
		{"off=65536", "340400010000"},
		{"t=4294967296", "38080000000100000000"},
		{"seq=18446744073709551615", "3a08ffffffffffffffff"},
		{"sha256digest=", "0100"},
		{"params-sha256=ABcd", "0202abcd"},
		{"1=ab", "01026162"},
	} {
		got, err := parseComponent(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if h := hex.EncodeToString(got); h != c.want {
			t.Errorf("%q = %s, want %s", c.in, h, c.want)
		}
	}
}

// ndnd reads the same text to the same component wherever both define it, which is what
// matters for matching.
func TestParseComponentAgreesWithNdnd(t *testing.T) {
	for _, s := range []string{"KEY", "32=DV", "%C1.Router", "v=7", "seg=300", "t=1", "seq=9", "255=x", "8=a"} {
		ours, err := parseComponent(s)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := enc.ComponentFromStr(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, theirs.Bytes()) {
			t.Errorf("%q: ours % x, ndnd's % x", s, ours, theirs.Bytes())
		}
	}
}

func TestParseComponentErrors(t *testing.T) {
	for _, s := range []string{
		"a b", "a/b", `a\b`, "é", "a=b=c", "=x", "0=x", "65536=x", "x=1", "V=1",
		"%", "%4", "a%4", "%zz", "%-1", "%%41", "%_1",
		"v=", "v=-1", "v=1_", "v=_1", "v=1__0", "v=0x10", "v=18446744073709551616",
		"sha256digest=abc", "sha256digest=zz", "params-sha256=%41",
	} {
		if b, err := parseComponent(s); err == nil {
			t.Errorf("%q accepted as % x", s, b)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ src, pos, msg string }{
		// syntax
		{"#a x", "1:4", "expected ':'"},
		{"a: x", "1:1", "expected a rule definition"},
		{"#a:", "1:4", "expected a name component"},
		{"#a: x/", "1:7", "expected a name component"},
		{"#a: x & {}", "1:10", "expected a pattern name"},
		{"#a: x & { x \"1\" }", "1:13", "expected ':'"},
		{"#a: x <=", "1:9", "expected a rule name"},
		{"#a: x & { x: $f(a,) }", "1:19", "expected a function argument"},
		{"#a: x & { x: $f(,) }", "1:18", "expected a function argument"},
		{"#a: x & { x: $f(a b) }", "1:19", "expected ','"},
		{"#a: \"KEY\n\"", "1:5", "string not closed"},
		{"#a: x @", "1:7", "unexpected character '@'"},
		{"#a: x < #b", "1:7", "'<' must be followed by '='"},
		{"#: x", "1:1", "must be followed by an identifier"},
		{"#a: 1x", "1:5", "unexpected character '1'"},
		{"#a: x\n  // comment\n  #b: y/ z/\n", "4:1", "expected a name component"},
		// components
		{`#a: "a b"`, "1:5", "bad component string"},
		{`#a: "%4"`, "1:5", "two hex digits"},
		{`#a: x & { x: "v=-1" }`, "1:14", "negative"},
		{`#a: "x\"y"`, "1:5", "not allowed"},
		// rules
		{"#a: #b/x", "1:5", "#b is not defined"},
		{"#_t: y\n#a: #_t/x", "2:5", "temporary rule"},
		{"#a: #b\n#b: x/#c\n#c: #a", "", "cycle"},
		{"#a: x/#a", "1:7", "cycle: #a -> #a"},
		// patterns
		{"#r: a/b & { c: b }", "1:13", "pattern c is constrained before it occurs"},
		{"#r: a/b & { b: c }", "1:16", "pattern c is used in a constraint before it occurs"},
		{"#r: a/_x & { a: _x }", "1:17", "temporary pattern _x cannot be used on the right-hand side"},
		{"#r: a/_x & { a: $f(_x) }", "1:20", "temporary pattern _x cannot be used"},
		{"#r: a & { _x: \"1\" }", "1:11", "temporary pattern _x does not occur in the name of #r"},
		{"#k: _x\n#r: #k & { _x: \"1\" }", "2:12", "does not occur"},
		// signing
		{"#r: a <= #k", "1:10", "signing rule #k is not defined"},
		{"#_k: x\n#r: a <= #_k", "2:10", "temporary rule"},
		{"#a: x <= #b\n#b: y <= #a", "", "signing chain loops"},
		{"#root: \"r\" <= #root", "1:15", "signing chain loops: #root <= #root"},
		// limits
		{"#a: x\n#a: y\n#b: #a/#a/#a/#a/#a/#a/#a/#a/#a/#a/#a/#a/#a/#a/#a", "", "more than"},
	} {
		_, err := Compile(c.src)
		var le *Error
		if !errors.As(err, &le) {
			t.Errorf("%q: error %v is not an *Error", c.src, err)
			continue
		}
		if c.pos != "" && le.Pos.String() != c.pos {
			t.Errorf("%q: at %s, want %s (%v)", c.src, le.Pos, c.pos, err)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %q does not say %q", c.src, err, c.msg)
		}
	}
}

// What python-ndn accepts that looks like it should not, and must therefore compile.
func TestCompileAccepts(t *testing.T) {
	for _, src := range []string{
		"",
		"// only a comment",
		"#a: x & { x: $f(, x) }",
		"#a: x & { x: $f() }",
		"#a: /x",
		"#a:x/\"y\"&{x:\"1\"|\"2\",x:x}|{x:\"3\"}<=#a2|#a3 #a2:k #a3:k",
		"#x: a\n#r: b & { a: \"1\" }", // constrains a pattern not in the rule: dropped
		"#r: a/b & { b: a }\n#r: c",   // two definitions
		"#_: a\n#_: b",                // temporary rules may repeat
		"#r: \"a\"\r\n\f\t#s: \"b\"",
	} {
		b, err := Compile(src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if _, err := ts.NewLvsSchema(b); err != nil {
			t.Errorf("%q: ndnd refuses the model: %v", src, err)
		}
	}
}

// Alternatives, temporary-pattern constraints and pattern-to-pattern constraints, checked
// through ndnd's matcher.
func TestCompileSemantics(t *testing.T) {
	s := mustLoad(t, `
#KEY: "KEY"/_/_/_
#site: "s"
#site: "t"/"u"
#admin: #site/"admin"/who/#KEY
#post: #site/"post"/author/_n/_n & { _n: "1" | "2" } <= #writer
#writer: #site/"writer"/author/#KEY <= #admin
#copy: #site/x/y & { y: x } <= #admin
`)
	admin := "/s/admin/root/KEY/k/self/v=1"
	for _, c := range []struct {
		pkt, key string
		want     bool
	}{
		{"/s/post/ann/1/2", "/s/writer/ann/KEY/k/i/v=1", true},
		{"/t/u/post/ann/2/2", "/t/u/writer/ann/KEY/k/i/v=1", true},
		{"/s/post/ann/1/3", "/s/writer/ann/KEY/k/i/v=1", false},  // every _n occurrence is constrained
		{"/s/post/ann/1/1", "/s/writer/bob/KEY/k/i/v=1", false},  // author binds across the signer
		{"/s/post/ann/1/1", "/t/u/writer/ann/KEY/k/i/v=1", true}, // #site is values, not a pattern: not bound
		{"/s/writer/ann/KEY/k/i/v=1", admin, true},
		{"/s/q/q", admin, true},
		{"/s/q/r", admin, false},
		{"/t/post/ann/1/1", "/t/writer/ann/KEY/k/i/v=1", false}, // /t alone is not a site
	} {
		if got := s.Check(name(t, c.pkt), name(t, c.key)); got != c.want {
			t.Errorf("Check(%s, %s) = %v, want %v", c.pkt, c.key, got, c.want)
		}
	}
}
