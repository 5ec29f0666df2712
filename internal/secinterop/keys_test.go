//go:build !race

package secinterop

import (
	"crypto/elliptic"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/security/trust_schema"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/security/lvs"
)

// ident is a key and its certificate, made in-test with the library calls
// `ndnd sec keygen` and `ndnd sec sign-cert` make, and written as the PEM
// files those commands write.
type ident struct {
	id       enc.Name   // /<identity>
	key      ndn.Signer // KeyLocator: the key name
	cert     []byte     // certificate wire
	certName enc.Name   // /<id>/KEY/<kid>/<issuer>/v=<ms>
	keyFile  string     // PEM "NDN KEY": the secret-key Data
	certFile string     // PEM "NDN CERT"
}

// validity is the certificates' period: a minute of slack before now for
// clocks, as the CLI's default would not give.
func validity() (time.Time, time.Time) {
	now := time.Now()
	return now.Add(-time.Minute), now.Add(time.Hour)
}

// newKey makes a key of typ ("ed25519" or "ecdsa", P-256) for identity id.
func newKey(t testing.TB, id enc.Name, typ string) ndn.Signer {
	t.Helper()
	var k ndn.Signer
	var err error
	switch typ {
	case "ed25519":
		k, err = signer.KeygenEd25519(sec.MakeKeyName(id))
	case "ecdsa":
		k, err = signer.KeygenEcc(sec.MakeKeyName(id), elliptic.P256())
	default:
		err = fmt.Errorf("key type %q", typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRoot makes a self-signed trust anchor for identity id (ed25519), its
// certificate in dir/<file>.cert.
func newRoot(t testing.TB, dir string, id enc.Name) *ident {
	t.Helper()
	k := newKey(t, id, "ed25519")
	nb, na := validity()
	w, err := sec.SelfSign(sec.SignCertArgs{Signer: k, NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	return finish(t, dir, k, w.Join())
}

// issue makes a key of typ for identity id and a certificate of it signed
// by is, with issuer id "root".
func (is *ident) issue(t testing.TB, dir string, id enc.Name, typ string) *ident {
	t.Helper()
	k := newKey(t, id, typ)
	secret, err := signer.MarshalSecretToData(k)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := validity()
	w, err := sec.SignCert(sec.SignCertArgs{
		Signer: is.key, Data: secret, IssuerId: enc.NewGenericComponent("root"),
		NotBefore: nb, NotAfter: na,
	})
	if err != nil {
		t.Fatal(err)
	}
	return finish(t, dir, k, w.Join())
}

// finish writes the key's secret and its certificate as PEM files named
// after the identity.
func finish(t testing.TB, dir string, k ndn.Signer, cert []byte) *ident {
	t.Helper()
	d, _, err := ndnpkt.Data(cert)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sec.GetIdentityFromKeyName(k.KeyName())
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, strings.ReplaceAll(strings.Trim(id.String(), "/"), "/", "_"))
	secret, err := signer.MarshalSecret(k)
	if err != nil {
		t.Fatal(err)
	}
	it := &ident{id: id, key: k, cert: cert, certName: d.Name().Clone(), keyFile: base + ".key", certFile: base + ".cert"}
	writePEM(t, it.keyFile, secret.Join())
	writePEM(t, it.certFile, cert)
	return it
}

func writePEM(t testing.TB, path string, raw []byte) {
	t.Helper()
	p, err := sec.PemEncode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, p, 0o600); err != nil {
		t.Fatal(err)
	}
}

// contextSigner signs as ndnd's Suggest does: with the key, KeyLocator the
// certificate name minus its version. Outsiders use it directly, since
// security.New would refuse their keys.
func (it *ident) contextSigner() ndn.Signer {
	return &signer.ContextSigner{Signer: it.key, KeyLocatorName: it.certName.Prefix(-1)}
}

// groupSchema is the group's trust schema in LightVerSec: the State Vector
// Data (checked as /<group>, its version stripped, by ndnd and by ours)
// is signed by a member certificate /<group>/m/<node>/KEY/..., issued by
// the root /<group>/KEY/.... "m" is quoted: an unquoted m would be a
// pattern matching any component.
func groupSchema(t testing.TB, groupLVS string) *trust_schema.LvsSchema {
	t.Helper()
	src := fmt.Sprintf(`// the sync group of one test
#g: %s
#svdata: #g <= #member
#member: #g/"m"/node/#KEY <= #root
#root: #g/#KEY
#KEY: "KEY"/_/_/_
`, groupLVS)
	s, err := lvs.Load([]byte(src))
	if err != nil {
		t.Fatalf("schema:\n%s\n%v", src, err)
	}
	return s
}
