// Package node assembles a running ndnsvs-node from its configuration: the
// in-process forwarder, the strategy choices, the static neighbours and the
// routes that take each sync group to the network.
package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/security"
)

// Node is one ndnsvs-node: a forwarder and what the configuration sets up
// on it.
type Node struct {
	cfg   config.Config
	log   *slog.Logger
	fwd   *fw.Forwarder
	name  enc.Name        // node.name, resolved once (it may read the host name)
	apps  []app           // in-process applications, stopped before the forwarder
	syncs []groupMember   // the node's member of each sync group, stopped first
	met   nodeMetrics     // [metrics]: the registry and its HTTP listener (metrics.go)
	trust *security.Trust // [security], nil without it (security.go)
	// signers are the signers New checked, by group name (security.go)
	signers map[string]ndn.Signer

	sup   *supervisor   // runs the group members and the trimmer
	ready chan struct{} // closed by Run once started
}

// New checks the configuration, and what it asks of this machine
// (config.Preflight), and prepares a node; nothing runs yet. A node without
// node.name takes its default name here, making its id in node.state_dir
// the first time. Forwarder logs go to logw. Configuration problems are
// returned as *config.Error values, with their keys.
func New(c config.Config, logger *slog.Logger, logw io.Writer) (*Node, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.Preflight(); err != nil {
		return nil, err
	}
	fc, err := ForwarderConfig(c, logger, logw)
	if err != nil {
		return nil, err
	}
	if fc.Unix.Group, fc.Unix.ChangeGroup, err = c.UnixGroupID(); err != nil {
		return nil, err
	}
	nameStr, err := c.NodeName()
	if err != nil {
		return nil, err
	}
	name, err := enc.NameFromStr(nameStr)
	if err != nil {
		return nil, fmt.Errorf("node: node name %q: %w", nameStr, err)
	}
	// Keys, anchors and schema are read before anything starts, so that
	// a bad one refuses the start with its file and reason.
	trust, err := loadTrust(c)
	if err != nil {
		return nil, err
	}
	signers, err := checkSigning(c, trust, name)
	if err != nil {
		return nil, err
	}
	fwd, err := fw.New(fc)
	if err != nil {
		return nil, err
	}
	return &Node{cfg: c, log: logger, fwd: fwd, name: name, trust: trust, signers: signers, sup: newSupervisor(), ready: make(chan struct{})}, nil
}

// Forwarder returns the node's forwarder, for in-process applications.
func (n *Node) Forwarder() *fw.Forwarder { return n.fwd }

// Start sets the process's garbage collector target (node.gc_percent,
// unless GOGC is set), starts the forwarder, installs the strategy choices
// (multicast on every sync group), opens the neighbour faces and routes
// each group to the network faces. On error the node is closed.
func (n *Node) Start(ctx context.Context) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(n.cfg.Node.GCPercent)
	}
	if err := n.fwd.Start(ctx); err != nil {
		return err
	}
	if err := n.setup(); err != nil {
		_ = n.Close()
		return err
	}
	if err := n.startMetrics(); err != nil {
		_ = n.Close()
		return err
	}
	n.sup.Go("memory trimmer", func(ctx context.Context) error { return n.trimWhenIdle(ctx, trimInterval) })
	return nil
}

// NodeName is the node's NDN name.
func (n *Node) NodeName() string { return n.name.String() }

// ClientTransport is the NDN_CLIENT_TRANSPORT value that reaches the node
// through its unix socket, or "" when the unix face is off.
func (n *Node) ClientTransport() string {
	if !n.cfg.Faces.Unix.Enabled {
		return ""
	}
	return n.cfg.ClientTransport()
}

// GroupPrefixes lists the configured sync group prefixes.
func (n *Node) GroupPrefixes() []string {
	out := make([]string, 0, len(n.cfg.Groups))
	for _, g := range n.cfg.Groups {
		out = append(out, g.Prefix)
	}
	return out
}

// Close stops the node: the supervised goroutines (group members, the
// trimmer) first, then in-process applications, each waited for until its
// face is down, then the forwarder. Safe to call more than once. Run calls
// it; a program that calls Start calls Close itself.
func (n *Node) Close() error {
	n.sup.Stop()
	n.syncs = nil
	apps := n.apps
	n.apps = nil
	for i := len(apps) - 1; i >= 0; i-- {
		a := apps[i]
		if err := a.engine.Stop(); err != nil {
			n.log.Warn("stopping application", "app", a.name, "err", err)
			continue
		}
		select {
		case <-a.down:
		case <-time.After(5 * time.Second):
			n.log.Warn("application did not stop within 5s", "app", a.name)
		}
	}
	return n.fwd.Close()
}
