package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
)

// groupRetention bounds each class (own, fetched) of a group's store until
// the configuration has keys for it: at most 100,000 publications and
// 256 MiB of segments, the older ones removed first.
var groupRetention = svs.Retention{MaxCount: 100_000, MaxBytes: 256 << 20}

// startGroup makes the node a member of a sync group: an SVS v3 member named
// after the node, on a bare in-process face of its own (svs.NewOnFace: no
// ndn engine, packets straight from the forwarding thread). The group
// prefix (not /<group>/v=3) is routed to it: NDNts members register
// /<group> with Capture and without ChildInherit, and a /<group>/v=3 route
// would hide them (docs/interop.md). What else arrives under /<group> is
// counted in the member's Stats.Ignored.
//
// With cache (group[i].cache), the member has a publication layer: it
// fetches every publication of the group and serves it to members that ask
// again, from a bbolt file of the group in the node's state directory
// (groupStorePath), which keeps its bootstrap time, what it fetched and its
// vector across restarts. A store that is locked (another process with the
// same node name and group) or corrupt fails the start with the file's
// path. Without cache, the member only syncs: fetching the publications of
// members that serve none (ndnd's SvSync, NDNts without a data layer)
// would cost every node retries for each of their sequence numbers.
func (n *Node) startGroup(prefix string, cache bool) error {
	group, err := enc.NameFromStr(prefix)
	if err != nil {
		return fmt.Errorf("node: group %q: %w", prefix, err)
	}
	name := n.name
	lg := n.log.With("group", prefix)
	var data *svs.DataConfig
	var store *boltstore.Store
	var path string
	if cache {
		store, path, err = n.openGroupStore(group)
		if err != nil {
			return fmt.Errorf("node: group %s: %w", prefix, err)
		}
		data = &svs.DataConfig{
			Storage: store,
			OnMessage: func(m svs.Message) {
				if lg.Enabled(context.Background(), slog.LevelDebug) {
					lg.Debug("publication", "member", m.Node, "boot", m.Boot, "seq", m.Seq, "bytes", m.Size())
				}
			},
			OnMissed: func(m svs.Missed) {
				lg.Warn("publications given up", "member", m.Node, "boot", m.Boot, "low", m.Low, "high", m.High,
					"reason", m.Reason, "attempts", m.Attempts, "last_error", m.Last.String())
			},
		}
	}
	closeStore := func() error {
		if store == nil {
			return nil
		}
		return store.Close()
	}
	signer, validator, err := n.signing(group)
	if err != nil {
		_ = closeStore()
		return err
	}
	af, err := n.fwd.NewFace()
	if err != nil {
		_ = closeStore()
		return fmt.Errorf("node: group %s: %w", prefix, err)
	}
	if data != nil {
		// /<group>/<node> to this member alone: not inheriting the
		// group's routes, so that a fetch of its publications does not
		// also go to the LAN (svs.DataConfig.RegisterOwn).
		data.RegisterOwn = func(p enc.Name) error { return n.fwd.AddCaptureRoute(p, af.FaceID(), 0, fw.OriginApp) }
	}
	s, err := svs.NewOnFace(af, svs.Config{
		Group:               group,
		Node:                name,
		Logger:              lg,
		MaxSyncInterestSize: n.cfg.Sync.MaxSyncInterestSize,
		MaxMembers:          n.cfg.Sync.MaxMembers,
		SupersededGrace:     n.cfg.Sync.SupersededGrace.Duration,
		Observer:            n.groupObserver(prefix, cache),
		Signer:              signer,
		Validator:           validator,
		OnUpdate: func(u svs.Update) {
			if lg.Enabled(context.Background(), slog.LevelDebug) {
				lg.Debug("update", "member", u.NodeName(), "boot", u.Boot, "low", u.Low, "high", u.High)
			}
		},
		// The group prefix, and /<node>/<group> for the member's own
		// publications under their v3 names.
		Register: func(p enc.Name) error {
			return n.fwd.AddRoute(p, af.FaceID(), 0, fw.OriginApp)
		},
		Data: data,
	})
	if err != nil {
		_ = af.Close()
		_ = closeStore()
		return err
	}
	n.sup.Go("group "+prefix, func(ctx context.Context) error {
		// Run has stopped the member's writers when it returns.
		err := s.Run(ctx)
		if cerr := closeStore(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
		return err
	})
	n.syncs = append(n.syncs, groupMember{prefix: prefix, sync: s})
	if n.cfg.Health.Enabled {
		if err := n.startHealth(prefix, group, lg); err != nil {
			return err
		}
	}
	if cache {
		lg.Info("joined sync group", "member", name, "boot", s.Boot(), "cache", path)
	} else {
		lg.Info("joined sync group", "member", name, "boot", s.Boot())
	}
	return nil
}

// openGroupStore opens the group's store, creating the directory.
func (n *Node) openGroupStore(group enc.Name) (*boltstore.Store, string, error) {
	dir, err := n.cfg.StateDir()
	if err != nil {
		return nil, "", err
	}
	path := groupStorePath(dir, n.name, group)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", fmt.Errorf("state directory: %w", err)
	}
	st, err := boltstore.Open(path, boltstore.Options{StorageConfig: svs.StorageConfig{Own: groupRetention, Fetched: groupRetention}})
	if err != nil {
		return nil, "", fmt.Errorf("open store %s: %w", path, err)
	}
	return st, path, nil
}

// groupStorePath is <state_dir>/groups/<node>/<group>.db: one file per
// node name and group, so two nodes with different names sharing a state
// directory never share a store, and two processes with the same name and
// group (which would reuse sequence numbers) are stopped by the file's
// lock. Each part is the name made file-safe and cut to 80 bytes, then a
// hash of the whole name, so different names never meet.
func groupStorePath(stateDir string, node, group enc.Name) string {
	return filepath.Join(stateDir, "groups", fileSafe(node), fileSafe(group)+".db")
}

func fileSafe(n enc.Name) string {
	readable := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, strings.TrimPrefix(n.String(), "/"))
	if len(readable) > 80 {
		readable = readable[:80]
	}
	sum := sha256.Sum256(n.Bytes())
	return readable + "-" + hex.EncodeToString(sum[:6])
}

// Syncs returns the node's own member of each sync group, by group prefix.
func (n *Node) Syncs() map[string]*svs.Sync {
	out := make(map[string]*svs.Sync, len(n.syncs))
	for _, g := range n.syncs {
		out[g.prefix] = g.sync
	}
	return out
}

// groupMember is the node's member of one group; the supervisor runs it.
type groupMember struct {
	prefix string
	sync   *svs.Sync
}
