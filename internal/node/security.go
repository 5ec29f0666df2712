package node

import (
	"fmt"
	"slices"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sec "github.com/named-data/ndnd/std/security"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/security/lvs"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

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
		return nil, securityError("", err)
	}
	return t, nil
}

// securityError is err from the security package as a configuration
// problem of the [security] table, after what, without the package's
// prefix (the key says it).
func securityError(what string, err error) *config.Error {
	return &config.Error{Key: "security", Reason: what + strings.TrimPrefix(err.Error(), "security: ")}
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
	_, err = checkSigning(c, t, name)
	return err
}

// checkSigning checks, before anything starts, that the schema lets the
// node's key sign for every member the configuration makes: each group's,
// its publications with group[i].cache, and its health member. It returns
// their signers, by group name (the health group's too), for the members
// to take when they start.
func checkSigning(c config.Config, t *security.Trust, node enc.Name) (map[string]ndn.Signer, error) {
	if t == nil {
		return nil, nil
	}
	signers := map[string]ndn.Signer{}
	for _, g := range c.Groups {
		group, err := enc.NameFromStr(g.Prefix)
		if err != nil {
			return nil, fmt.Errorf("node: group %q: %w", g.Prefix, err)
		}
		s, _, err := Signing(t, node, group, g.Cache)
		if err != nil {
			return nil, err
		}
		signers[group.String()] = s
		if c.Health.Enabled {
			health := svs.HealthGroup(group)
			s, _, err := Signing(t, node, health, false)
			if err != nil {
				return nil, &config.Error{Key: "health.enabled", Reason: err.Error() + " (the heartbeat member signs /<group>/health: give it a schema rule, or disable health)"}
			}
			signers[health.String()] = s
		}
	}
	return signers, nil
}

// signing gives a member of group its signer and validator: the node's
// defaults (DigestSha256, every vector accepted) without security, else
// the signer New checked for it (checkSigning).
func (n *Node) signing(group enc.Name) (ndn.Signer, wire.Validator, error) {
	if n.trust == nil {
		return nil, nil, nil
	}
	s, ok := n.signers[group.String()]
	if !ok {
		return nil, nil, fmt.Errorf("node: no signer checked for group %s", group)
	}
	return s, n.trust, nil
}

// Signing is the signer and validator of a member named node of group with
// trust t (nil: the defaults). With publications it also checks that the
// schema lets the key sign them, under both their names, so that a key
// outside the schema stops the start instead of making a member whose
// every packet the others drop. Errors are *config.Error values.
func Signing(t *security.Trust, node, group enc.Name, publications bool) (ndn.Signer, wire.Validator, error) {
	if t == nil {
		return nil, nil, nil
	}
	s, err := t.Signer(group)
	if err != nil {
		return nil, nil, securityError(fmt.Sprintf("group %s: ", group), err)
	}
	if publications {
		for _, name := range publicationSamples(node, group) {
			if err := t.CanSign(name); err != nil {
				return nil, nil, securityError(fmt.Sprintf("group %s publications: ", group), err)
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
		id, err := sec.GetIdentityFromCertName(a)
		if err == nil && len(id) > 0 && !slices.ContainsFunc(out, id.Equal) {
			out = append(out, id)
		}
	}
	return out, nil
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
	served, err := security.Serve(a.engine, n.trust, capture)
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
// and serves and fetches certificates with security.Serve.
func LoadTrust(c config.Config) (*security.Trust, error) { return loadTrust(c) }
