package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// logLevels and logFormats are the values log.level, log.forwarder_level and
// log.format accept.
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
	strategies = []string{StrategyBestRoute, StrategyMulticast}
)

// Validate checks every value and every rule across values, and returns nil
// or one *Error per problem joined with errors.Join. The errors carry keys
// but no file or line: Parse and Load add those.
func (c Config) Validate() error {
	return joinErrors(c.problems())
}

// checker collects problems.
type checker struct {
	errs []*Error
}

func (ch *checker) add(key, format string, args ...any) {
	ch.errs = append(ch.errs, &Error{Key: key, Reason: fmt.Sprintf(format, args...)})
}

// bad reports a value and why it was refused: `"x": reason`.
func (ch *checker) bad(key, value string, err error) {
	ch.add(key, "%s: %v", quote(value), err)
}

func (ch *checker) oneOf(key, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		ch.add(key, "%s: want one of %s", quote(value), strings.Join(allowed, ", "))
	}
}

func (ch *checker) intRange(key string, v, lo, hi int, why string) {
	if v < lo || v > hi {
		ch.add(key, "%d out of range %d..%d%s", v, lo, hi, why)
	}
}

func (c Config) problems() []*Error {
	var ch checker
	c.checkNode(&ch)
	c.checkLog(&ch)
	c.checkForwarder(&ch)
	c.checkFaces(&ch)
	c.checkMetrics(&ch)
	c.checkHealth(&ch)
	c.checkSecurity(&ch)
	groups := c.checkGroups(&ch)
	c.checkStrategies(&ch, groups)
	c.checkNeighbors(&ch)
	return ch.errs
}

func (c Config) checkLog(ch *checker) {
	ch.oneOf("log.level", c.Log.Level, logLevels)
	ch.oneOf("log.format", c.Log.Format, logFormats)
	ch.oneOf("log.forwarder_level", c.Log.ForwarderLevel, logLevels)
}

func (c Config) checkForwarder(ch *checker) {
	f := c.Forwarder
	ch.intRange("forwarder.threads", f.Threads, 0, MaxThreads, " (0 means GOMAXPROCS)")
	ch.intRange("forwarder.queue_size", f.QueueSize, 1, MaxQueueSize, "")
	ch.intRange("forwarder.face_queue_size", f.FaceQueueSize, 1, MaxQueueSize, "")
	ch.intRange("forwarder.udp_mtu", f.UDPMTU, MinUDPMTU, MaxUDPMTU, "")
	ch.intRange("forwarder.content_store.capacity", f.ContentStore.Capacity, 0, MaxContentStoreCapacity, "")
}

func (c Config) checkFaces(ch *checker) {
	u := c.Faces.Unix
	if u.Path != "" {
		switch {
		case !filepath.IsAbs(u.Path):
			ch.add("faces.unix.path", "%s: want an absolute path, or \"\" for the default", quote(u.Path))
		case len(u.Path) > MaxUnixPathLen:
			ch.add("faces.unix.path", "%s: longer than %d bytes, the most a unix socket path may be", quote(u.Path), MaxUnixPathLen)
		case strings.ContainsAny(u.Path, "$\x00"):
			// ndnd passes the path through os.ExpandEnv.
			ch.add("faces.unix.path", "%s: must not contain '$' (ndnd would expand it) or NUL", quote(u.Path))
		case strings.HasSuffix(u.Path, "/"):
			ch.add("faces.unix.path", "%s: names a directory, want the socket's file name", quote(u.Path))
		}
	}
	if _, err := parseMode(u.Mode); err != nil {
		ch.bad("faces.unix.mode", u.Mode, err)
	}
	if err := checkGroupSpelling(u.Group); err != nil {
		ch.bad("faces.unix.group", u.Group, err)
	}

	checkListenList(ch, "faces.udp", c.Faces.UDP.Enabled, c.Faces.UDP.Listen)
	if d := c.Faces.UDP.Lifetime.Duration; d < MinUDPLifetime || d > MaxUDPLifetime {
		ch.add("faces.udp.lifetime", "%s out of range %s..%s", quote(c.Faces.UDP.Lifetime.String()),
			Duration{MinUDPLifetime}, Duration{MaxUDPLifetime})
	}
	if n := c.Sync.MaxSyncInterestSize; n < MinSyncInterestSize || n > MaxSyncInterestSize {
		ch.add("sync.max_sync_interest_size", "%d out of range %d..%d", n, MinSyncInterestSize, MaxSyncInterestSize)
	}
	if n := c.Sync.MaxMembers; n < 1 || n > MaxMembers {
		ch.add("sync.max_members", "%d out of range 1..%d", n, MaxMembers)
	}
	if d := c.Sync.SupersededGrace.Duration; d < time.Second || d > MaxSupersededGrace {
		ch.add("sync.superseded_grace", "%s out of range 1s..%s", quote(c.Sync.SupersededGrace.String()), Duration{MaxSupersededGrace})
	}
	if r := c.Management.RequestsPerSecond; r < 1 || r > MaxMgmtRate {
		ch.add("management.requests_per_second", "%d out of range 1..%d", r, MaxMgmtRate)
	}
	if b := c.Management.Burst; b < 1 || b > MaxMgmtRate {
		ch.add("management.burst", "%d out of range 1..%d", b, MaxMgmtRate)
	}
	l := c.Faces.Limits
	if l.OnDemandFaces < 0 || l.OnDemandFaces > MaxFaces {
		ch.add("faces.limits.on_demand_faces", "%d out of range 0..%d", l.OnDemandFaces, MaxFaces)
	}
	if l.StreamFaces < 1 || l.StreamFaces > MaxFaces {
		ch.add("faces.limits.stream_faces", "%d out of range 1..%d", l.StreamFaces, MaxFaces)
	}
	if l.ReassemblyBytes < MinReassemblyBytes || l.ReassemblyBytes > MaxReassemblyBytes {
		ch.add("faces.limits.reassembly_bytes", "%d out of range %d..%d (at least one whole packet)", l.ReassemblyBytes, MinReassemblyBytes, MaxReassemblyBytes)
	}
	if d := l.ReassemblyTimeout.Duration; d < MinReassemblyTimeout || d > MaxReassemblyTimeout {
		ch.add("faces.limits.reassembly_timeout", "%s out of range %s..%s", quote(l.ReassemblyTimeout.String()),
			Duration{MinReassemblyTimeout}, Duration{MaxReassemblyTimeout})
	}

	m := c.Faces.Multicast
	if _, err := parseMulticastGroup(m.Group); err != nil {
		ch.bad("faces.multicast.group", m.Group, err)
	}
	seen := map[string]int{}
	for i, name := range m.Interfaces {
		key := "faces.multicast.interfaces[" + strconv.Itoa(i) + "]"
		if err := checkIfaceName(name); err != nil {
			ch.bad(key, name, err)
			continue
		}
		if j, dup := seen[name]; dup {
			ch.add(key, "%s: duplicate of faces.multicast.interfaces[%d]", quote(name), j)
			continue
		}
		seen[name] = i
	}

	checkListenList(ch, "faces.tcp", c.Faces.TCP.Enabled, c.Faces.TCP.Listen)

	w := c.Faces.WebSocket
	if _, err := parseListen(w.Listen); err != nil {
		ch.bad("faces.websocket.listen", w.Listen, err)
	}
	switch {
	case w.TLSCert != "" && w.TLSKey == "":
		ch.add("faces.websocket.tls_key", "empty while tls_cert is set: set both for wss://, or neither for ws://")
	case w.TLSCert == "" && w.TLSKey != "":
		ch.add("faces.websocket.tls_cert", "empty while tls_key is set: set both for wss://, or neither for ws://")
	}
}

// checkListenList checks the listen array of the table at prefix: each
// address parses, none repeats, and an enabled face has at least one.
func checkListenList(ch *checker, prefix string, enabled bool, list []string) {
	if enabled && len(list) == 0 {
		ch.add(prefix+".listen", "empty while %s.enabled is true: list at least one address", prefix)
	}
	seen := map[netip.AddrPort]int{}
	for i, s := range list {
		key := prefix + ".listen[" + strconv.Itoa(i) + "]"
		ap, err := parseListen(s)
		if err != nil {
			ch.bad(key, s, err)
			continue
		}
		if j, dup := seen[ap]; dup && ap.Port() != 0 {
			ch.add(key, "%s: duplicate of %s.listen[%d]", quote(s), prefix, j)
			continue
		}
		seen[ap] = i
	}
}

// groupPrefixes maps the key of each valid group prefix to its index.
type groupPrefixes map[string]int

func (c Config) checkNode(ch *checker) {
	ch.intRange("node.gc_percent", c.Node.GCPercent, 10, 1000, "")
	if d := c.Node.StateDir; d != "" {
		switch {
		case !filepath.IsAbs(d):
			ch.add("node.state_dir", "%s: want an absolute path, or \"\" for the default", quote(d))
		case strings.ContainsRune(d, 0):
			ch.add("node.state_dir", "%s: must not contain NUL", quote(d))
		}
	}
	if c.Node.Name == "" {
		return
	}
	n, err := checkName(c.Node.Name)
	switch {
	case err != nil:
		ch.bad("node.name", c.Node.Name, err)
	case len(n) == 0:
		ch.add("node.name", "%s: a node needs a name longer than \"/\"", quote(c.Node.Name))
	case n.isLocalhost():
		ch.add("node.name", "%s: /localhost is reserved for the forwarder", quote(c.Node.Name))
	}
}

func (c Config) checkGroups(ch *checker) groupPrefixes {
	seen := groupPrefixes{}
	for i, g := range c.Groups {
		key := "group[" + strconv.Itoa(i) + "].prefix"
		n, err := checkName(g.Prefix)
		switch {
		case g.Prefix == "":
			ch.add(key, "missing or empty: every [[group]] needs a prefix")
			continue
		case err != nil:
			ch.bad(key, g.Prefix, err)
			continue
		case len(n) == 0:
			ch.add(key, "%s: a sync group needs a prefix longer than \"/\"", quote(g.Prefix))
			continue
		case n.isLocalhost():
			ch.add(key, "%s: /localhost is reserved for the forwarder", quote(g.Prefix))
			continue
		}
		if j, dup := seen[n.key()]; dup {
			ch.add(key, "%s: duplicate of group[%d].prefix", quote(g.Prefix), j)
			continue
		}
		seen[n.key()] = i
	}
	return seen
}

func (c Config) checkStrategies(ch *checker, groups groupPrefixes) {
	seen := map[string]int{}
	for i, s := range c.Strategies {
		base := "strategy[" + strconv.Itoa(i) + "]"
		nameOK := slices.Contains(strategies, s.Name)
		if s.Name == "" {
			ch.add(base+".name", "missing or empty: want one of %s", strings.Join(strategies, ", "))
		} else if !nameOK {
			ch.add(base+".name", "%s: unknown strategy, want one of %s", quote(s.Name), strings.Join(strategies, ", "))
		}
		n, err := checkName(s.Prefix)
		switch {
		case s.Prefix == "":
			ch.add(base+".prefix", `missing or empty: every [[strategy]] needs a prefix ("/" for the default)`)
			continue
		case err != nil:
			ch.bad(base+".prefix", s.Prefix, err)
			continue
		case n.isLocalhost():
			ch.add(base+".prefix", "%s: /localhost is reserved for the forwarder", quote(s.Prefix))
			continue
		}
		if j, dup := seen[n.key()]; dup {
			ch.add(base+".prefix", "%s: duplicate of strategy[%d].prefix", quote(s.Prefix), j)
			continue
		}
		seen[n.key()] = i
		if j, isGroup := groups[n.key()]; isGroup && nameOK && s.Name != StrategyMulticast {
			ch.add(base+".name", "%s: %s is the prefix of group[%d], which always uses multicast (sync does not converge with %s)",
				quote(s.Name), quote(s.Prefix), j, s.Name)
		}
	}
}

// The bounds of neighbor[i].resolve_every.
const (
	MinResolveEvery = time.Second
	MaxResolveEvery = time.Hour
)

func (c Config) checkNeighbors(ch *checker) {
	seen := map[faceURI]int{}
	for i, nb := range c.Neighbors {
		base := "neighbor[" + strconv.Itoa(i) + "]"
		if nb.URI == "" {
			ch.add(base+".uri", "missing or empty: every [[neighbor]] needs a uri")
		} else if u, err := parseFaceURI(nb.URI); err != nil {
			ch.bad(base+".uri", nb.URI, err)
		} else {
			if j, dup := seen[u]; dup {
				ch.add(base+".uri", "%s: duplicate of neighbor[%d].uri", quote(nb.URI), j)
			} else {
				seen[u] = i
			}
			if d := nb.ResolveEvery.Duration; d != 0 && u.host == "" {
				ch.add(base+".resolve_every", "%s: the uri has no DNS name to resolve", quote(nb.ResolveEvery.String()))
			}
		}
		if d := nb.ResolveEvery.Duration; d != 0 && (d < MinResolveEvery || d > MaxResolveEvery) {
			ch.add(base+".resolve_every", "%s out of range %s..%s", quote(nb.ResolveEvery.String()),
				Duration{MinResolveEvery}, Duration{MaxResolveEvery})
		}
		prefixes := map[string]int{}
		for k, p := range nb.Prefixes {
			key := base + ".prefixes[" + strconv.Itoa(k) + "]"
			n, err := checkName(p)
			switch {
			case err != nil:
				ch.bad(key, p, err)
				continue
			case n.isLocalhost():
				ch.add(key, "%s: /localhost is reserved for the forwarder", quote(p))
				continue
			}
			if j, dup := prefixes[n.key()]; dup {
				ch.add(key, "%s: duplicate of %s.prefixes[%d]", quote(p), base, j)
				continue
			}
			prefixes[n.key()] = k
		}
	}
}
