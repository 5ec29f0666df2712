package main

import (
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"
)

const keygenAbout = `Makes the keys of a secured group (docs/security.md), in the files ndnd's
"ndnd sec" reads and writes, so that no other tool is needed on the machine.

  ndnsvs-node keygen -type ed25519 -o DIR IDENTITY
      a new key /IDENTITY/KEY/<id> in DIR/<name>.key and its certificate in
      DIR/<name>.cert, signed by the key itself (a trust anchor) or, with
      -issuer FILE, by the key in FILE (a member's certificate).
  ndnsvs-node keygen -type hmac -o FILE
      a random 32-byte group key for signer "hmac", in base64.

Key files are written with mode 0600 and never overwritten.`

// keygenMain runs "ndnsvs-node keygen".
func keygenMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "ed25519", "key `TYPE`: ed25519, ecdsa (P-256), rsa (2048 bits) or hmac")
	out := fs.String("o", "", "output `DIR` (keys) or FILE (hmac)")
	issuer := fs.String("issuer", "", "key `FILE` that signs the certificate; none makes a self-signed anchor")
	issuerID := fs.String("issuer-id", "", "issuer component of the certificate name (default: \"self\" for an anchor, \"NA\" otherwise, as ndnd sec)")
	days := fs.Int("days", 365, "certificate validity in `DAYS`, from one minute ago")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ndnsvs-node keygen [flags] IDENTITY\n\n%s\n\nFlags:\n", keygenAbout)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ndnsvs-node keygen: "+format+"\n", a...)
		return exitUsage
	}
	if *out == "" {
		return fail("-o is required")
	}
	if *typ == "hmac" {
		if fs.NArg() != 0 || *issuer != "" {
			return fail("-type hmac takes no identity and no -issuer")
		}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := writeNew(*out, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(stdout, "group key: %s\n", *out)
		return exitOK
	}
	if fs.NArg() != 1 {
		return fail("want one IDENTITY, got %d arguments", fs.NArg())
	}
	if *days < 1 {
		return fail("-days %d: want at least 1", *days)
	}
	id, err := enc.NameFromStr(fs.Arg(0))
	if err != nil || len(id) == 0 {
		return fail("identity %q: not an NDN name", fs.Arg(0))
	}
	key, err := newKey(*typ, sec.MakeKeyName(id))
	if err != nil {
		return fail("%v", err)
	}
	certSigner, iid := key, "self"
	if *issuer != "" {
		if certSigner, err = readKey(*issuer); err != nil {
			return fail("%v", err)
		}
		iid = "NA"
	}
	if *issuerID != "" {
		iid = *issuerID
	}
	keyPEM, certPEM, certName, err := makeKeyAndCert(key, certSigner, iid, time.Duration(*days)*24*time.Hour)
	if err != nil {
		return fail("%v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("%v", err)
	}
	base := filepath.Join(*out, fileSafeName(id))
	if err := writeNew(base+".key", keyPEM); err != nil {
		return fail("%v", err)
	}
	if err := writeNew(base+".cert", certPEM); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "key:         %s (%s)\ncertificate: %s (%s)\n", base+".key", key.KeyName(), base+".cert", certName)
	return exitOK
}

// newKey makes a key of typ named name.
func newKey(typ string, name enc.Name) (ndn.Signer, error) {
	switch typ {
	case "ed25519":
		return signer.KeygenEd25519(name)
	case "ecdsa":
		return signer.KeygenEcc(name, elliptic.P256())
	case "rsa":
		return signer.KeygenRsa(name, 2048)
	}
	return nil, fmt.Errorf("-type %q: want ed25519, ecdsa, rsa or hmac", typ)
}

// readKey reads the one key of an ndnd key file (PEM or TLV).
func readKey(path string) (ndn.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, _, err := sec.DecodeFile(b)
	if err != nil || len(keys) != 1 {
		return nil, fmt.Errorf("%s: want exactly one key (an \"NDN KEY\" block), found %d (%v)", path, len(keys), err)
	}
	return keys[0], nil
}

// makeKeyAndCert returns key as an ndnd key file, and its certificate
// signed by certSigner with issuer id iid, valid from a minute ago (clock
// skew between members) for validity.
func makeKeyAndCert(key, certSigner ndn.Signer, iid string, validity time.Duration) (keyPEM, certPEM []byte, certName enc.Name, err error) {
	secret, err := signer.MarshalSecret(key)
	if err != nil {
		return nil, nil, nil, err
	}
	secretData, _, err := spec.Spec{}.ReadData(enc.NewWireView(secret))
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	cert, err := sec.SignCert(sec.SignCertArgs{
		Signer:    certSigner,
		Data:      secretData,
		IssuerId:  enc.NewGenericComponent(iid),
		NotBefore: now.Add(-time.Minute),
		NotAfter:  now.Add(validity),
	})
	if err != nil {
		return nil, nil, nil, err
	}
	certData, _, err := spec.Spec{}.ReadData(enc.NewWireView(cert))
	if err != nil {
		return nil, nil, nil, err
	}
	if keyPEM, err = sec.PemEncode(secret.Join()); err != nil {
		return nil, nil, nil, err
	}
	if certPEM, err = sec.PemEncode(cert.Join()); err != nil {
		return nil, nil, nil, err
	}
	return keyPEM, certPEM, certData.Name(), nil
}

// writeNew writes b to a new file of mode 0600; an existing file is an
// error, never overwritten (a key made twice would lose the first).
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fileSafeName is an identity as a file name: /g/alice is g-alice.
func fileSafeName(id enc.Name) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			return r
		}
		return '-'
	}, strings.TrimPrefix(id.String(), "/"))
	if s == "" {
		return "root"
	}
	return s
}
