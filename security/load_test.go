package security

import (
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// TestNewFails: New refuses every broken configuration with a message
// naming the file (when there is one) and the reason.
func TestNewFails(t *testing.T) {
	w := newWorld(t)
	alice := key(t, "ed25519", "/g/alice")
	aliceCert := issue(t, alice, w.root, t0.Add(-time.Hour), t0.Add(time.Hour))
	good := writeFile(t, w.dir, "alice.pem", secretPEM(t, alice), pemOf(t, aliceCert))
	expired := writeFile(t, w.dir, "alice-expired.pem", secretPEM(t, alice),
		pemOf(t, issue(t, alice, w.root, t0.Add(-48*time.Hour), t0.Add(-24*time.Hour))))
	future := writeFile(t, w.dir, "alice-future.pem", secretPEM(t, alice),
		pemOf(t, issue(t, alice, w.root, t0.Add(time.Hour), t0.Add(48*time.Hour))))
	keyOnly := writeFile(t, w.dir, "alice-key.pem", secretPEM(t, alice))
	bob := key(t, "ed25519", "/g/bob")
	twoKeys := writeFile(t, w.dir, "two.pem", secretPEM(t, alice), secretPEM(t, bob), pemOf(t, aliceCert))
	wrongCert := writeFile(t, w.dir, "wrong.pem", secretPEM(t, bob), pemOf(t, aliceCert))
	garbage := writeFile(t, w.dir, "garbage.pem", []byte("hello\n"))
	x509PEM := writeFile(t, w.dir, "x509.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	otherRoot := keygen(t, "ed25519", "/g") // same identity, another key: not an anchor
	stranger := writeFile(t, w.dir, "stranger.pem", secretPEM(t, alice),
		pemOf(t, issue(t, alice, otherRoot, t0.Add(-time.Hour), t0.Add(time.Hour))))
	anchorExpired := writeFile(t, w.dir, "root-expired.cert", pemOf(t, selfSign(t, w.root, t0.Add(-48*time.Hour), t0.Add(-time.Hour))))
	anchorFuture := writeFile(t, w.dir, "root-future.cert", pemOf(t, selfSign(t, w.root, t0.Add(time.Hour), t0.Add(48*time.Hour))))
	pub, _ := w.root.Public()
	noValidity, err := specMake(mustName(t, "/g/KEY/k/self/v=1"), 2, pub, w.root)
	if err != nil {
		t.Fatal(err)
	}
	anchorNoValidity := writeFile(t, w.dir, "root-novalidity.cert", noValidity)
	missing := w.dir + "/missing.pem"

	chain := func(mut func(*Config)) Config {
		c := w.config(t, "ed25519", good)
		mut(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"unknown signer", Config{Signer: "dsa"}, []string{`"dsa"`}},
		{"digest with keys", Config{KeyFiles: []string{good}}, []string{"takes no KeyFiles"}},
		{"short HMAC key", Config{Signer: "hmac", HMACKey: make([]byte, 15)}, []string{"15 bytes", "fewer than 16"}},
		{"missing key file", chain(func(c *Config) { c.KeyFiles = []string{missing} }), []string{missing, "no such file"}},
		{"garbage key file", chain(func(c *Config) { c.KeyFiles = []string{garbage} }), []string{garbage, "no PEM block"}},
		{"X.509 PEM", chain(func(c *Config) { c.KeyFiles = []string{x509PEM} }), []string{x509PEM, `"CERTIFICATE"`}},
		{"no key", chain(func(c *Config) { c.KeyFiles = []string{w.anchor} }), []string{"no private key"}},
		{"two keys", chain(func(c *Config) { c.KeyFiles = []string{twoKeys} }), []string{"2 keys", twoKeys}},
		{"unknown Key", chain(func(c *Config) { c.KeyFiles = []string{twoKeys}; c.Key = "/g/carol" }), []string{"no key /g/carol", twoKeys}},
		{"key type", chain(func(c *Config) { c.Signer = "ecdsa" }), []string{good, "not"}},
		{"no certificate", chain(func(c *Config) { c.KeyFiles = []string{keyOnly} }), []string{keyOnly, "no certificate"}},
		{"certificate of another key", chain(func(c *Config) { c.KeyFiles = []string{wrongCert} }), []string{wrongCert}},
		{"expired certificate", chain(func(c *Config) { c.KeyFiles = []string{expired} }), []string{expired, "NotAfter", t0.Add(-24 * time.Hour).Format(time.RFC3339)}},
		{"future certificate", chain(func(c *Config) { c.KeyFiles = []string{future} }), []string{future, "NotBefore"}},
		{"issuer not an anchor", chain(func(c *Config) { c.KeyFiles = []string{stranger} }), []string{stranger, "neither an anchor"}},
		{"no anchor", chain(func(c *Config) { c.Anchors = nil }), []string{"anchor"}},
		{"missing anchor", chain(func(c *Config) { c.Anchors = []string{missing} }), []string{missing}},
		{"expired anchor", chain(func(c *Config) { c.Anchors = []string{anchorExpired} }), []string{anchorExpired, "NotAfter"}},
		{"future anchor", chain(func(c *Config) { c.Anchors = []string{anchorFuture} }), []string{anchorFuture, "NotBefore"}},
		{"anchor without ValidityPeriod", chain(func(c *Config) { c.Anchors = []string{anchorNoValidity} }), []string{anchorNoValidity, "no ValidityPeriod"}},
		{"anchor with a key", chain(func(c *Config) { c.Anchors = []string{good} }), []string{good, "private key"}},
		{"no schema", chain(func(c *Config) { c.Schema = nil }), []string{"Schema"}},
		{"name outside the schema", chain(func(c *Config) { c.SignNames = []enc.Name{mustName(t, "/g/bob/t=1/seq=1")} }), []string{"/g/bob/t=1/seq=1", "/g/alice/KEY/"}},
		{"HMAC key in chain mode", chain(func(c *Config) { c.HMACKey = make([]byte, 32) }), []string{"HMACKey"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := New(c.cfg)
			if err == nil {
				t.Fatalf("New succeeded (mode %v)", tr.Mode())
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
	// And the good one loads, choosing the key by identity or key name.
	for _, k := range []string{"", "/g/alice", alice.KeyName().String()} {
		cfg := chain(func(c *Config) {
			c.Key = k
			c.SignNames = []enc.Name{mustName(t, "/g/v=3"), mustName(t, "/g/alice/t=1/seq=0")}
		})
		if _, err := New(cfg); err != nil {
			t.Errorf("Key %q: %v", k, err)
		}
	}
}

// TestIntermediate: a node whose certificate is issued by an intermediate
// CA in KeyFiles serves both, and a peer that knows only the root
// validates the node's packets after fetching them.
func TestIntermediate(t *testing.T) {
	w := newWorld(t)
	ca := keygen(t, "ecdsa", "/g/ca")
	caCert := issue(t, ca, w.root, t0.Add(-time.Hour), t0.Add(time.Hour))
	erin := keygen(t, "rsa", "/g/erin")
	erinCert := issue(t, erin, ca, t0.Add(-time.Hour), t0.Add(2*time.Hour))
	f := writeFile(t, w.dir, "erin.pem", secretPEM(t, erin), pemOf(t, erinCert))
	caf := writeFile(t, w.dir, "ca.cert", caCert) // raw TLV
	cfg := w.config(t, "rsa", f)
	cfg.KeyFiles = append(cfg.KeyFiles, caf)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if oc := tr.OwnChain(); len(oc) != 2 || string(oc[0]) != string(erinCert) || string(oc[1]) != string(caCert) {
		t.Fatalf("OwnChain: %d certificates", len(oc))
	}
	// Erin's certificate outlives the CA's: trusted only while both are.
	s, err := tr.Signer(mustName(t, "/g/v=3"))
	if err != nil {
		t.Fatal(err)
	}
	raw := makeData(t, mustName(t, "/g/v=3"), nil, s)
	if err := tr.Validate(parse(t, raw)); err != nil {
		t.Fatal(err)
	}

	// A peer that has only the root fetches erin's chain from her node.
	pf, _ := w.member(t, "ed25519", "/g/alice")
	peer, err := New(w.config(t, "ed25519", pf))
	if err != nil {
		t.Fatal(err)
	}
	net := newFakeNet()
	for _, c := range tr.OwnChain() {
		net.put(t, c)
	}
	peer.SetFetcher(net)
	if err := askTwice(t, peer, raw); err != nil {
		t.Fatalf("peer: %v", err)
	}
	if c := net.ncalls(); c != 2 {
		t.Errorf("%d fetches, want 2 (erin, then the CA)", c)
	}
	w.clock.Add(time.Hour + time.Second) // the CA expired, erin's not
	if err := peer.Validate(parse(t, raw)); reasonOf(err) != ReasonExpired {
		t.Errorf("after the CA expired: %v, want expired", err)
	}
	if err := tr.Validate(parse(t, raw)); reasonOf(err) != ReasonExpired {
		t.Errorf("own chain after the CA expired: %v, want expired", err)
	}
}

// TestRootNode: a node that signs with the anchor's own key loads (the
// schema still decides what it may sign).
func TestRootNode(t *testing.T) {
	w := newWorld(t)
	f := writeFile(t, w.dir, "root.pem", secretPEM(t, w.root), w.rootPEM)
	tr, err := New(w.config(t, "ed25519", f))
	if err != nil {
		t.Fatal(err)
	}
	if oc := tr.OwnChain(); len(oc) != 1 || string(oc[0]) != string(w.rootRaw) {
		t.Fatalf("OwnChain: %d certificates", len(oc))
	}
	if err := tr.CanSign(mustName(t, "/g/v=3")); err == nil {
		t.Error("the schema lets only members sign /g, yet CanSign accepts the root")
	}
}
