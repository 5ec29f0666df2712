package security

import (
	"crypto/elliptic"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/security/trust_schema"
	"github.com/named-data/ndnd/std/types/optional"
)

// lvsBuilder builds an LVS model by hand (the text compiler is another
// package's): a tree of value and pattern edges, rules as paths in it.
type lvsBuilder struct {
	m trust_schema.LvsModel
}

// Tags: 1 is the named pattern variable "m" (a member's name, shared by a
// packet rule and its signer's rule); anon is the anonymous "_".
const (
	tagM    = 1
	tagAnon = 2
)

func newLvsBuilder() *lvsBuilder {
	b := &lvsBuilder{}
	b.m.Version = trust_schema.LVS_VERSION
	b.m.NamedPatternCnt = 1
	b.m.Nodes = []*trust_schema.LvsNode{{Id: 0}}
	return b
}

// path walks from the start node: a string is a generic component, an int
// a pattern tag. It returns the node reached.
func (b *lvsBuilder) path(elems ...any) uint64 {
	cur := uint64(0)
	for _, e := range elems {
		n := b.m.Nodes[cur]
		var next uint64
		found := false
		switch e := e.(type) {
		case string:
			v := enc.NewGenericComponent(e).Bytes()
			for _, ve := range n.Edges {
				if string(ve.Value) == string(v) {
					next, found = ve.Dest, true
				}
			}
			if !found {
				next = b.add(cur)
				n.Edges = append(n.Edges, &trust_schema.LvsValueEdge{Dest: next, Value: v})
			}
		case int:
			for _, pe := range n.PatternEdges {
				if pe.Tag == uint64(e) {
					next, found = pe.Dest, true
				}
			}
			if !found {
				next = b.add(cur)
				n.PatternEdges = append(n.PatternEdges, &trust_schema.LvsPatternEdge{Dest: next, Tag: uint64(e)})
			}
		}
		cur = next
	}
	return cur
}

func (b *lvsBuilder) add(parent uint64) uint64 {
	id := uint64(len(b.m.Nodes))
	b.m.Nodes = append(b.m.Nodes, &trust_schema.LvsNode{Id: id, Parent: optional.Some(parent)})
	return id
}

func (b *lvsBuilder) sign(pkt uint64, keys ...uint64) {
	b.m.Nodes[pkt].SignCons = append(b.m.Nodes[pkt].SignCons, keys...)
}

func (b *lvsBuilder) schema(t testing.TB) *trust_schema.LvsSchema {
	t.Helper()
	s, err := trust_schema.NewLvsSchema(b.m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testSchema is, in LVS text:
//
//	#KEY: "KEY"/_/_/_
//	#root: "g"/#KEY
//	#ca: "g"/"ca"/#KEY <= #root | #ca
//	#member: "g"/m/#KEY <= #root | #ca
//	#svdata: "g" <= #member
//	#pub: "g"/m/_/_ <= #member
//	#other: "x"/_ <= #member
//
// so a member signs the group's State Vector Data (checked as /g) and
// its own publications (/g/<m>/t=<boot>/seq=<n>) only, and certificate
// authorities under /g/ca may chain to any depth.
func testSchema(t testing.TB) *trust_schema.LvsSchema {
	b := newLvsBuilder()
	root := b.path("g", "KEY", tagAnon, tagAnon, tagAnon)
	ca := b.path("g", "ca", "KEY", tagAnon, tagAnon, tagAnon)
	member := b.path("g", tagM, "KEY", tagAnon, tagAnon, tagAnon)
	svdata := b.path("g")
	pub := b.path("g", tagM, tagAnon, tagAnon)
	b.sign(ca, root, ca)
	b.sign(member, root, ca)
	b.sign(svdata, member)
	b.sign(pub, member)
	return b.schema(t)
}

func mustName(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// keygen makes a key for identity id, as `ndnd sec keygen` does.
func keygen(t testing.TB, typ, id string) ndn.Signer {
	t.Helper()
	kn := sec.MakeKeyName(mustName(t, id))
	var k ndn.Signer
	var err error
	switch typ {
	case "ed25519":
		k, err = signer.KeygenEd25519(kn)
	case "ecdsa":
		k, err = signer.KeygenEcc(kn, elliptic.P256())
	case "rsa":
		k, err = signer.KeygenRsa(kn, 2048)
	default:
		t.Fatalf("keygen %q", typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testKeys caches generated keys by (type, id, i): RSA keygen is slow.
var testKeys sync.Map

func key(t testing.TB, typ, id string) ndn.Signer {
	t.Helper()
	if k, ok := testKeys.Load(typ + id); ok {
		return k.(ndn.Signer)
	}
	k := keygen(t, typ, id)
	testKeys.Store(typ+id, k)
	return k
}

// issue makes key's certificate signed by issuer (its raw signer, whose
// KeyLocator is its key name), as `ndnd sec sign-cert` does.
func issue(t testing.TB, k, issuer ndn.Signer, notBefore, notAfter time.Time) []byte {
	t.Helper()
	csr, err := signer.MarshalSecretToData(k)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sec.SignCert(sec.SignCertArgs{
		Signer:    issuer,
		Data:      csr,
		IssuerId:  enc.NewGenericComponent("ROOT"),
		NotBefore: notBefore,
		NotAfter:  notAfter,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w.Join()
}

// selfSign makes an anchor certificate.
func selfSign(t testing.TB, k ndn.Signer, notBefore, notAfter time.Time) []byte {
	t.Helper()
	w, err := sec.SelfSign(sec.SignCertArgs{Signer: k, NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	return w.Join()
}

func secretPEM(t testing.TB, k ndn.Signer) []byte {
	t.Helper()
	w, err := signer.MarshalSecret(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, w.Join())
}

func pemOf(t testing.TB, raw []byte) []byte {
	t.Helper()
	p, err := sec.PemEncode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeFile writes parts, concatenated, to a file in dir.
func writeFile(t testing.TB, dir, name string, parts ...[]byte) string {
	t.Helper()
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// makeData signs a Data with s, as our codec and ndnd's SvSync do, and
// returns its wire.
func makeData(t testing.TB, name enc.Name, content []byte, s ndn.Signer) []byte {
	t.Helper()
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{ContentType: optional.Some(ndn.ContentTypeBlob)}, enc.Wire{content}, s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Wire.Join()
}

// parse reads a Data wire as the codec hands it to a Validator.
func parse(t testing.TB, raw []byte) (ndn.Data, enc.Wire) {
	t.Helper()
	d, cov, err := spec.Spec{}.ReadData(enc.NewBufferView(raw))
	if err != nil {
		t.Fatal(err)
	}
	return d, cov
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// specMake makes a Data of a content type, with no ValidityPeriod.
func specMake(name enc.Name, ct ndn.ContentType, content []byte, s ndn.Signer) ([]byte, error) {
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{ContentType: optional.Some(ct)}, enc.Wire{content}, s)
	if err != nil {
		return nil, err
	}
	return d.Wire.Join(), nil
}

// specMakeCross makes a Blob Data that carries a CrossSchema (TLV 600).
func specMakeCross(name enc.Name, cross []byte, s ndn.Signer) ([]byte, error) {
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{
		ContentType: optional.Some(ndn.ContentTypeBlob),
		CrossSchema: enc.Wire{cross},
	}, enc.Wire{[]byte("sv")}, s)
	if err != nil {
		return nil, err
	}
	return d.Wire.Join(), nil
}
