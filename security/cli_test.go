package security

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ndndSec runs `go tool ndnd sec args...` with stdin and returns its
// standard output. The CLI exits 0 even on usage errors (ndnd v1.5.3's
// main drops Execute's error), so the output is checked, not only the
// status.
func ndndSec(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool", "ndnd", "sec"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ndnd sec %v: %v\n%s", args, err, errb.Bytes())
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("-----BEGIN NDN ")) {
		t.Fatalf("ndnd sec %v printed no PEM block:\n%s%s", args, out.Bytes(), errb.Bytes())
	}
	return out.Bytes()
}

// TestNdndCLI: keys and certificates made by `ndnd sec keygen` and
// `sign-cert --issuer` load through KeyFiles and Anchors, and what the
// node signs validates.
func TestNdndCLI(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	rootKey := ndndSec(t, nil, "keygen", "/g", "ed25519")
	rootCert := ndndSec(t, rootKey, "sign-cert", writeFile(t, dir, "root.key", rootKey))
	carolKey := ndndSec(t, nil, "keygen", "/g/carol", "ecc", "secp256r1")
	carolCert := ndndSec(t, carolKey, "sign-cert", "--issuer", "ROOT", filepath.Join(dir, "root.key"))
	if !strings.Contains(string(carolCert), "/ROOT/") {
		t.Fatalf("--issuer ignored:\n%s", carolCert)
	}
	tr, err := New(Config{
		Signer:   "ecdsa",
		KeyFiles: []string{writeFile(t, dir, "carol.key", carolKey), writeFile(t, dir, "carol.cert", carolCert)},
		Anchors:  []string{writeFile(t, dir, "root.cert", rootCert)},
		Schema:   testSchema(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tr.Signer(mustName(t, "/g/v=3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Validate(parse(t, makeData(t, mustName(t, "/g/v=3"), []byte("sv"), s))); err != nil {
		t.Fatal(err)
	}
}
