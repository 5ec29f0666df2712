package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"
)

// readCert reads the one certificate of an ndnd certificate file.
func readCert(t *testing.T, path string) (ndn.Data, enc.Wire) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, certs, err := sec.DecodeFile(b)
	if err != nil || len(certs) != 1 {
		t.Fatalf("%s: %d certificates, %v", path, len(certs), err)
	}
	d, covered, err := spec.Spec{}.ReadData(enc.NewBufferView(certs[0]))
	if err != nil {
		t.Fatal(err)
	}
	return d, covered
}

// keygen makes an anchor and a member certificate it signs, in the files
// ndnd sec reads: the member's certificate verifies with the anchor's key,
// both are named as ndnd names certificates, and the key files are the
// user's alone.
func TestKeygenAnchorAndMember(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"keygen", "-type", "ed25519", "-o", dir, "/g"},
		{"keygen", "-type", "ecdsa", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "/g/m/alice"},
		{"keygen", "-type", "rsa", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "-issuer-id", "root", "-days", "2", "/g/m/bob"},
	} {
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
	}
	root, rootCovered := readCert(t, filepath.Join(dir, "g.cert"))
	for _, m := range []struct{ file, issuer string }{{"g-m-alice", "NA"}, {"g-m-bob", "root"}} {
		cert, covered := readCert(t, filepath.Join(dir, m.file+".cert"))
		if ok, err := signer.ValidateData(cert, covered, root); !ok {
			t.Errorf("%s: not signed by the anchor: %v", m.file, err)
		}
		n := cert.Name()
		if len(n) < 4 || string(n[len(n)-4].Val) != "KEY" || string(n[len(n)-2].Val) != m.issuer {
			t.Errorf("%s: certificate name %s, want /<id>/KEY/<kid>/%s/<version>", m.file, n, m.issuer)
		}
		fi, err := os.Stat(filepath.Join(dir, m.file+".key"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s.key: %v, mode %v; want 0600", m.file, err, fi.Mode().Perm())
		}
	}
	if ok, _ := signer.ValidateData(root, rootCovered, root); !ok {
		t.Error("the anchor is not self-signed")
	}
	if !strings.Contains(out.String(), "certificate:") {
		t.Errorf("output %q names no certificate", out.String())
	}
	// A key is never overwritten.
	errb.Reset()
	if code := run([]string{"keygen", "-o", dir, "/g"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "exists") {
		t.Errorf("keygen over an existing key: exit %d, %q; want %d and \"exists\"", code, errb.String(), exitUsage)
	}
}

func TestKeygenHMAC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "group.hmac")
	var out, errb bytes.Buffer
	if code := run([]string{"keygen", "-type", "hmac", "-o", path}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		t.Errorf("key file %q: %d bytes, %v; want 32 bytes of base64", b, len(key), err)
	}
}

func TestKeygenUsage(t *testing.T) {
	for _, args := range [][]string{
		{"keygen", "/g"},                             // no -o
		{"keygen", "-o", t.TempDir()},                // no identity
		{"keygen", "-type", "dsa", "-o", "x", "/g"},  // unknown type
		{"keygen", "-type", "hmac", "-o", "x", "/g"}, // hmac takes no identity
		{"keygen", "-o", t.TempDir(), "-issuer", "/nonexistent.key", "/g/m"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitUsage || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d and a reason", args, code, errb.String(), exitUsage)
		}
	}
}
