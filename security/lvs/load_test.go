package lvs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	"github.com/named-data/ndnd/std/security/signer"
	ts "github.com/named-data/ndnd/std/security/trust_schema"
	"github.com/named-data/ndnd/std/types/optional"
)

// groupSchema is the shape of schema a sync group uses: the State Vector Data (named by the
// group) is signed by a member, a member's certificate by the group's root.
const groupSchema = `
// a sync group
#g: "g"
#svdata: #g <= #member
#member: #g/m/#KEY <= #root
#root: #g/#KEY
#KEY: "KEY"/_/_/_
`

func name(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustLoad(t testing.TB, src string) *ts.LvsSchema {
	t.Helper()
	s, err := Load([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGroupSchemaCheck(t *testing.T) {
	s := mustLoad(t, groupSchema)
	for _, c := range []struct {
		pkt, key string
		want     bool
	}{
		{"/g", "/g/alice/KEY/k1/root/v=1", true},
		{"/g", "/g/alice/KEY/k1/root/v=1/sha256digest=0000000000000000000000000000000000000000000000000000000000000000", true},
		{"/g/alice/KEY/k1/root/v=1", "/g/KEY/k0/self/v=1", true},
		{"/g", "/g/KEY/k0/self/v=1", false},                           // the root key signs members, not vectors
		{"/g/alice/KEY/k1/root/v=1", "/g/bob/KEY/k2/root/v=1", false}, // a member does not sign members
		{"/h", "/h/alice/KEY/k1/root/v=1", false},
		{"/g", "/h/alice/KEY/k1/root/v=1", false}, // "g" is a value, not a pattern
		{"/g", "/g/alice/KEY/k1/root", false},     // a certificate name has four components after the identity
		{"/g/x", "/g/alice/KEY/k1/root/v=1", false},
		{"/8=g", "/g/alice/KEY/k1/root/v=1", true}, // 8= is the generic type
		{"/9=g", "/g/alice/KEY/k1/root/v=1", false},
		{"/g", "/g/alice/32=KEY/k1/root/v=1", false}, // the type is part of the value
	} {
		if got := s.Check(name(t, c.pkt), name(t, c.key)); got != c.want {
			t.Errorf("Check(%s, %s) = %v, want %v", c.pkt, c.key, got, c.want)
		}
	}
}

// A named pattern binds across the packet and its signer: the publication of m must be
// signed by m's own key.
func TestNamedPatternBindsAcrossSigner(t *testing.T) {
	s := mustLoad(t, groupSchema+`#pub: #g/m/"data"/_ <= #member`)
	if !s.Check(name(t, "/g/alice/data/1"), name(t, "/g/alice/KEY/k1/root/v=1")) {
		t.Error("alice's key refused for alice's data")
	}
	if s.Check(name(t, "/g/alice/data/1"), name(t, "/g/bob/KEY/k2/root/v=1")) {
		t.Error("bob's key accepted for alice's data")
	}
}

func newCert(t *testing.T, kc ndn.KeyChain, identity string, issuer ndn.Signer, issuerID string) ndn.Signer {
	t.Helper()
	key, err := signer.KeygenEd25519(sec.MakeKeyName(name(t, identity)))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := signer.MarshalSecretToData(key)
	if err != nil {
		t.Fatal(err)
	}
	if issuer == nil {
		issuer = key
	}
	cert, err := sec.SignCert(sec.SignCertArgs{
		Signer:    issuer,
		Data:      secret,
		IssuerId:  enc.NewGenericComponent(issuerID),
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.InsertKey(key); err != nil {
		t.Fatal(err)
	}
	if err := kc.InsertCert(cert.Join()); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestGroupSchemaSuggest(t *testing.T) {
	s := mustLoad(t, groupSchema)
	kc := keychain.NewKeyChainMem(storage.NewMemoryStore())
	root := newCert(t, kc, "/g", nil, "self")
	alice := newCert(t, kc, "/g/alice", root, "root")

	sg := s.Suggest(name(t, "/g"), kc)
	if sg == nil {
		t.Fatal("no signer suggested for /g")
	}
	if !sg.KeyName().Equal(alice.KeyName()) {
		t.Errorf("suggested key %s, want alice's %s", sg.KeyName(), alice.KeyName())
	}
	wantLoc := alice.KeyName().Append(enc.NewGenericComponent("root"))
	if !sg.KeyLocator().Equal(wantLoc) {
		t.Errorf("key locator %s, want %s", sg.KeyLocator(), wantLoc)
	}

	sg = s.Suggest(name(t, "/g/alice/KEY/k1/root/v=1"), kc)
	if sg == nil || !sg.KeyName().Equal(root.KeyName()) {
		t.Errorf("a member certificate should be signed by the root key, got %v", sg)
	}
	if sg := s.Suggest(name(t, "/h"), kc); sg != nil {
		t.Errorf("signer %s suggested for a name outside the schema", sg.KeyName())
	}
}

func TestLoadTextAndBinaryAgree(t *testing.T) {
	bin, err := Compile(groupSchema)
	if err != nil {
		t.Fatal(err)
	}
	if bin[0] != 0x61 {
		t.Fatalf("model starts with %#x", bin[0])
	}
	fromBin, err := Load(bin)
	if err != nil {
		t.Fatal(err)
	}
	fromText := mustLoad(t, groupSchema)
	for _, pkt := range []string{"/g", "/g/a/KEY/1/2/3", "/h"} {
		for _, key := range []string{"/g/a/KEY/1/2/3", "/g/KEY/1/2/3"} {
			p, k := name(t, pkt), name(t, key)
			if fromBin.Check(p, k) != fromText.Check(p, k) {
				t.Errorf("Check(%s, %s) differs between text and binary", pkt, key)
			}
		}
	}
}

func TestLoadGoldens(t *testing.T) {
	for _, g := range goldens {
		for _, f := range []string{g.bin, g.src} {
			_, err := Load(readTestdata(t, f))
			if usesFn[g.src] {
				if !errors.Is(err, ErrUserFunction) {
					t.Errorf("%s: %v, want ErrUserFunction", f, err)
				}
			} else if err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "group.lvs")
	if err := os.WriteFile(good, []byte(groupSchema), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(good); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(filepath.Join("testdata", "dv_schema.tlv")); err != nil {
		t.Fatal(err)
	}

	bad := filepath.Join(dir, "bad.lvs")
	if err := os.WriteFile(bad, []byte("#a: x\n#b: #nope/y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(bad)
	if err == nil || !strings.Contains(err.Error(), bad+":2:5:") {
		t.Errorf("error %v does not name %s:2:5", err, bad)
	}

	missing := filepath.Join(dir, "missing.tlv")
	if _, err := LoadFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("error %v does not name %s", err, missing)
	}

	fnBin := filepath.Join(dir, "fn.tlv")
	if err := os.WriteFile(fnBin, fnModel(t).Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(fnBin); !errors.Is(err, ErrUserFunction) || !strings.Contains(err.Error(), fnBin) {
		t.Errorf("error %v: want ErrUserFunction naming %s", err, fnBin)
	}
}

func TestLoadRefusesUserFunctionText(t *testing.T) {
	src := "#r: a/b & { b: \"x\" | $isValid(a) }\n"
	// python-ndn compiles it, and so does Compile ...
	if _, err := Compile(src); err != nil {
		t.Fatal(err)
	}
	// ... but ndnd would panic on it, so Load refuses it, at the call.
	_, err := Load([]byte(src))
	if !errors.Is(err, ErrUserFunction) {
		t.Fatalf("Load: %v, want ErrUserFunction", err)
	}
	if !strings.Contains(err.Error(), "1:22:") || !strings.Contains(err.Error(), "ndnd v1.5.3 panics on them at match time") {
		t.Errorf("error %q", err)
	}
	// A user function the compiler drops (it constrains a pattern not in the rule) is still
	// refused: the text asked for one.
	if _, err := Load([]byte("#x: a\n#r: b & { a: $f() }\n")); !errors.Is(err, ErrUserFunction) {
		t.Errorf("Load: %v, want ErrUserFunction", err)
	}
}

// fnModel is a binary model with a user function: what python-ndn emits for
// #r: a & { a: $f("x") }.
func fnModel(t testing.TB) *ts.LvsModel {
	t.Helper()
	m, _, err := compile(`#r: a & { a: $f("x") }`)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadRefusesUserFunctionBinary(t *testing.T) {
	m := fnModel(t)
	b := m.Bytes()
	// ndnd itself accepts the model ...
	s, err := ts.NewLvsSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	// ... and panics the first time a name reaches the edge.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("ndnd did not panic on a user function; the refusal may be unneeded now")
			}
		}()
		s.Check(name(t, "/x"), name(t, "/y"))
	}()
	if _, err := Load(b); !errors.Is(err, ErrUserFunction) {
		t.Fatalf("Load: %v, want ErrUserFunction", err)
	}
}

// Each case is a model NewLvsSchema accepts and Match then panics or loops on, from a
// remote name; Load must refuse every one.
func TestLoadRefusesUnsafeShapes(t *testing.T) {
	base := func() *ts.LvsModel {
		m, _, err := compile(`#r: "a"/b`)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := map[string]func(m *ts.LvsModel){
		"start out of range": func(m *ts.LvsModel) { m.StartId = uint64(len(m.Nodes)) },
		"pattern edge out of range": func(m *ts.LvsModel) {
			m.Nodes[1].PatternEdges[0].Dest = 99
		},
		"pattern edge to a node with another parent": func(m *ts.LvsModel) {
			m.Nodes[2].Parent = optional.Some[uint64](0)
		},
		"start node with a parent": func(m *ts.LvsModel) {
			m.Nodes[0].Parent = optional.Some[uint64](2)
		},
		"two edges into one node": func(m *ts.LvsModel) {
			m.Nodes[1].PatternEdges = append(m.Nodes[1].PatternEdges, m.Nodes[1].PatternEdges[0])
		},
		"option with nothing": func(m *ts.LvsModel) {
			m.Nodes[1].PatternEdges[0].ConsSets = []*ts.LvsPatternConstraint{{ConsOptions: []*ts.LvsConstraintOption{{}}}}
		},
	}
	for what, mutate := range cases {
		t.Run(what, func(t *testing.T) {
			m := base()
			mutate(m)
			_, err := Load(m.Bytes())
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrUnsafeModel) && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is neither ErrUnsafeModel nor ErrMalformed", err)
			}
		})
	}
	if _, err := Load(base().Bytes()); err != nil {
		t.Fatalf("the unmodified model: %v", err)
	}
}

// doubledChain is a model ndnd accepts in which each of depth nodes has two pattern edges
// into the next one: a few bytes per level.
func doubledChain(depth int) *ts.LvsModel {
	m := &ts.LvsModel{Version: ts.LVS_VERSION}
	for i := range depth + 1 {
		node := &ts.LvsNode{Id: uint64(i)}
		if i > 0 {
			node.Parent = optional.Some(uint64(i - 1))
		}
		if i < depth {
			e := &ts.LvsPatternEdge{Dest: uint64(i + 1), Tag: 1}
			node.PatternEdges = []*ts.LvsPatternEdge{e, e}
		} else {
			node.RuleName = [][]byte{[]byte("#r")}
			node.SignCons = []uint64{uint64(i)}
		}
		m.Nodes = append(m.Nodes, node)
	}
	return m
}

// Two edges into one node double ndnd's search at each level: found by FuzzLoad, where a
// model like this one hung the fuzzing worker.
func TestLoadRefusesDoubledEdges(t *testing.T) {
	const depth = 16
	b := doubledChain(depth).Bytes()
	s, err := ts.NewLvsSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	var long enc.Name
	for range depth {
		long = append(long, enc.NewGenericComponent("x"))
	}
	if got := len(s.MatchCollect(long)); got != 1<<depth {
		t.Fatalf("ndnd matched %d times, want 2^%d: the refusal may be unneeded now", got, depth)
	}
	if _, err := Load(b); !errors.Is(err, ErrUnsafeModel) {
		t.Fatalf("Load: %v, want ErrUnsafeModel", err)
	}
}

func TestLoadRefusesEmptySchema(t *testing.T) {
	for _, src := range []string{"", "// nothing yet\n"} {
		if _, err := Compile(src); err != nil {
			t.Fatalf("%q: %v (python-ndn compiles it)", src, err)
		}
		if _, err := Load([]byte(src)); !errors.Is(err, ErrNoRules) {
			t.Errorf("%q: %v, want ErrNoRules", src, err)
		}
	}
}

func TestLoadMalformedBinary(t *testing.T) {
	for _, b := range [][]byte{
		{0x61}, {0x61, 0x04, 0, 1, 0x10}, {0x61, 0x01, 0x05},
		// A node whose rule name claims 2^40 bytes: ndnd's decoder would allocate them.
		{0x61, 0x04, 0, 1, 0x10, 0, 0x63, 0x0a, 0x29, 0xff, 0, 0, 1, 0, 0, 0, 0, 0},
	} {
		if _, err := Load(b); err == nil {
			t.Errorf("% x accepted", b)
		}
	}
}
