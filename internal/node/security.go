package node

import (
	"fmt"
	"slices"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/security/lvs"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// certLifetime is the InterestLifetime of certificate fetches: a fetch
// holds the packets that wait for it, so it should end well within the
// group's next Sync Interest rather than a default 4 s.
const certLifetime = time.Second

// loadTrust reads the [security] table's files: nil without security. A
// missing or bad key, anchor or schema refuses the start with the file and
// the reason, under the key that named it.
func loadTrust(c config.Config) (*security.Trust, error) {
	s := c.Security
	if s.Signer == config.SignerNone {
		return nil, nil
	}
	sc := security.Config{Signer: s.Signer, KeyFiles: s.Keys, Key: s.Key, Anchors: s.Anchors}
	if s.Schema != "" {
		schema, err := lvs.LoadFile(s.Schema)
		if err != nil {
			return nil, &config.Error{Key: "security.schema", Reason: err.Error()}
		}
		sc.Schema = schema
	}
	if s.Signer == config.SignerHMAC {
		key, err := s.HMACKey()
		if err != nil {
			return nil, &config.Error{Key: "security.hmac_key_file", Reason: err.Error()}
		}
		sc.HMACKey = key
	}
	t, err := security.New(sc)
	if err != nil {
		return nil, &config.Error{Key: "security", Reason: strings.TrimPrefix(err.Error(), "security: ")}
	}
	return t, nil
}

// CheckSecurity does what New does with [security], for `ndnsvs-node
// check`: it loads the files and, when node.name is set (a default name
// would be made in the state directory, which check never writes), checks
// that the schema lets the node sign for every member it will run.
func CheckSecurity(c config.Config) error {
	t, err := loadTrust(c)
	if err != nil || t == nil || c.Node.Name == "" {
		return err
	}
	name, err := enc.NameFromStr(c.Node.Name)
	if err != nil {
		return fmt.Errorf("node: node name %q: %w", c.Node.Name, err)
	}
	return checkSigning(c, t, name)
}

// checkSigning checks, before anything starts, that the schema lets the
// node's key sign for every member the configuration makes: each group's,
// its publications with group[i].cache, and its health member.
func checkSigning(c config.Config, t *security.Trust, node enc.Name) error {
	if t == nil {
		return nil
	}
	for _, g := range c.Groups {
		group, err := enc.NameFromStr(g.Prefix)
		if err != nil {
			return fmt.Errorf("node: group %q: %w", g.Prefix, err)
		}
		if _, _, err := Signing(t, node, group, g.Cache); err != nil {
			return err
		}
		if c.Health.Enabled {
			if _, _, err := Signing(t, node, svs.HealthGroup(group), false); err != nil {
				return &config.Error{Key: "health.enabled", Reason: err.Error() + " (the heartbeat member signs /<group>/health: give it a schema rule, or disable health)"}
			}
		}
	}
	return nil
}

// signing gives a member of group its signer and validator: the node's
// defaults (DigestSha256, every vector accepted) without security. With
// publications it also checks that the schema lets the node's key sign
// them, under both their names, so that a key outside the schema stops the
// start instead of making a member whose every packet the others drop.
func (n *Node) signing(group enc.Name, publications bool) (ndn.Signer, wire.Validator, error) {
	return Signing(n.trust, n.name, group, publications)
}

// Signing is the signer and validator of a member named node of group with
// trust t (nil: the defaults); with publications it checks that the
// schema lets the key sign them too. Errors are *config.Error values.
func Signing(t *security.Trust, node, group enc.Name, publications bool) (ndn.Signer, wire.Validator, error) {
	if t == nil {
		return nil, nil, nil
	}
	s, err := t.Signer(group)
	if err != nil {
		return nil, nil, &config.Error{Key: "security", Reason: fmt.Sprintf("group %s: %s", group, strings.TrimPrefix(err.Error(), "security: "))}
	}
	if publications {
		for _, name := range publicationSamples(node, group) {
			if err := t.CanSign(name); err != nil {
				return nil, nil, &config.Error{Key: "security", Reason: fmt.Sprintf("group %s publications: %s", group, strings.TrimPrefix(err.Error(), "security: "))}
			}
		}
	}
	return s, t, nil
}

// publicationSamples are a publication's two names, as the validator
// checks them (without version and segment): the shared layer's
// /<group>/<node>/t=<boot>/seq=<n> and the v3 /<node>/<group>/t=<boot>/seq=<n>.
func publicationSamples(node, group enc.Name) []enc.Name {
	tail := enc.Name{enc.NewTimestampComponent(1), enc.NewSequenceNumComponent(1)}
	shared := group.Append(node...).Append(tail...)
	perNode := node.Append(group...).Append(tail...)
	return []enc.Name{shared, perNode}
}

// certPrefixes are where the node fetches other members' certificates:
// security.cert_prefixes, or the identities of the anchors.
func (n *Node) certPrefixes() ([]enc.Name, error) {
	if n.trust == nil || n.trust.Mode() != security.ModeChain {
		return nil, nil
	}
	if len(n.cfg.Security.CertPrefixes) > 0 {
		return parseNames(n.cfg.Security.CertPrefixes)
	}
	var out []enc.Name
	for _, a := range n.trust.AnchorNames() {
		id := identityOf(a)
		if len(id) > 0 && !slices.ContainsFunc(out, id.Equal) {
			out = append(out, id)
		}
	}
	return out, nil
}

// identityOf is /<id> of /<id>/KEY/<kid>/<issuer>/<version>.
func identityOf(cert enc.Name) enc.Name {
	for i := len(cert) - 1; i >= 0; i-- {
		if cert[i].Typ == enc.TypeGenericNameComponent && string(cert[i].Val) == "KEY" {
			return cert[:i].Clone()
		}
	}
	return nil
}

// startCerts serves the node's own certificate chain and fetches the
// certificates others' packets name, through one in-process application:
// its key names are routed to it with Capture (nothing else answers for
// them), and the certificate prefixes go to the network faces as the groups
// do.
func (n *Node) startCerts(prefixes []enc.Name) error {
	a, err := n.startApp("certificates")
	if err != nil {
		return err
	}
	capture := func(p enc.Name) error { return n.fwd.AddCaptureRoute(p, a.faceID, 0, fw.OriginApp) }
	served, err := ServeCerts(a.engine, n.trust, capture)
	if err != nil {
		return err
	}
	for _, name := range served {
		n.log.Info("serving certificate", "name", name)
	}
	for _, p := range prefixes {
		if err := n.fwd.RouteMulticast(p); err != nil {
			return err
		}
	}
	return nil
}

// Trust is the node's [security], or nil without one: an in-process
// application signs and validates with it (Trust.Signer, and Trust as the
// svs.Config Validator), and the node fetches the certificates it needs.
func (n *Node) Trust() *security.Trust { return n.trust }

// LoadTrust reads the [security] table's files, as the node does at start:
// nil without security. Errors are *config.Error values naming the key,
// the file and the reason. An application attached to a node loads its own
// and serves and fetches certificates with ServeCerts.
func LoadTrust(c config.Config) (*security.Trust, error) { return loadTrust(c) }

// ServeCerts makes e answer Interests for t's own certificates (each key
// name is routed to e with register) and makes t fetch the certificates it
// needs with e. It returns the names of the certificates served.
func ServeCerts(e ndn.Engine, t *security.Trust, register func(enc.Name) error) ([]enc.Name, error) {
	var served []enc.Name
	for _, raw := range t.OwnChain() {
		d, _, err := e.Spec().ReadData(enc.NewBufferView(raw))
		if err != nil {
			return nil, fmt.Errorf("node: own certificate: %w", err)
		}
		key := keyNameOf(d.Name())
		if key == nil {
			continue
		}
		if err := e.AttachHandler(key, func(args ndn.InterestHandlerArgs) {
			i := args.Interest
			if raw := t.Lookup(i.Name(), i.CanBePrefix()); raw != nil {
				_ = args.Reply(enc.Wire{raw})
			}
		}); err != nil {
			return nil, fmt.Errorf("node: serve certificate %s: %w", key, err)
		}
		if err := register(key); err != nil {
			return nil, fmt.Errorf("node: route certificate %s: %w", key, err)
		}
		served = append(served, d.Name())
	}
	t.SetFetcher(certFetcher{e: e})
	return served, nil
}

// keyNameOf is /<id>/KEY/<kid> of a certificate name.
func keyNameOf(cert enc.Name) enc.Name {
	id := identityOf(cert)
	if id == nil || len(cert) < len(id)+2 {
		return nil
	}
	return cert[:len(id)+2].Clone()
}

// certFetcher fetches a certificate through the node's forwarder.
type certFetcher struct{ e ndn.Engine }

func (f certFetcher) FetchCert(name enc.Name, done func([]byte, error)) {
	intr, err := f.e.Spec().MakeInterest(name, &ndn.InterestConfig{
		CanBePrefix: true,
		MustBeFresh: true,
		Lifetime:    optional.Some(certLifetime),
		Nonce:       utils.ConvertNonce(f.e.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		done(nil, err)
		return
	}
	err = f.e.Express(intr, func(a ndn.ExpressCallbackArgs) {
		switch a.Result {
		case ndn.InterestResultData:
			done(a.RawData.Join(), nil)
		case ndn.InterestResultNack:
			done(nil, fmt.Errorf("nacked (reason %d)", a.NackReason))
		case ndn.InterestResultTimeout:
			done(nil, fmt.Errorf("no answer within %v", certLifetime))
		default:
			done(nil, fmt.Errorf("fetch failed: %v", a.Error))
		}
	})
	if err != nil {
		done(nil, err)
	}
}
