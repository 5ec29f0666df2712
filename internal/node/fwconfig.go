package node

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// ForwarderConfig translates the node's configuration into the forwarder's.
// The configuration must have passed config.Validate.
func ForwarderConfig(c config.Config, logger *slog.Logger, logw io.Writer) (fw.Config, error) {
	fc := fw.DefaultConfig()
	fc.Threads = c.Forwarder.ThreadCount()
	fc.QueueSize = c.Forwarder.QueueSize
	fc.FaceQueueSize = c.Forwarder.FaceQueueSize
	fc.UDPMTU = c.Forwarder.UDPMTU
	fc.ContentStore = fw.ContentStoreConfig{
		Admit:    c.Forwarder.ContentStore.Admit,
		Serve:    c.Forwarder.ContentStore.Serve,
		Capacity: c.Forwarder.ContentStore.Capacity,
	}
	fc.Unix = fw.UnixConfig{Enabled: c.Faces.Unix.Enabled, Path: c.UnixSocketPath(), Mode: c.FileMode()}
	var errs []error
	parse := func(key string, s string) netip.AddrPort {
		a, err := netip.ParseAddrPort(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("node: %s: %w", key, err))
		}
		return a
	}
	fc.Mgmt = fw.MgmtConfig{
		AllowLocalhopRegister: c.Management.AllowLocalhopRegister,
		AllowFaceCreate:       c.Management.AllowFaceCreate,
		RequestsPerSecond:     c.Management.RequestsPerSecond,
		Burst:                 c.Management.Burst,
	}
	fc.Limits.OnDemandFaces = c.Faces.Limits.OnDemandFaces
	fc.Limits.StreamFaces = c.Faces.Limits.StreamFaces
	fc.Limits.ReassemblyBytes = c.Faces.Limits.ReassemblyBytes
	fc.Limits.Reassembly.Timeout = c.Faces.Limits.ReassemblyTimeout.Duration
	fc.UDP.Enabled = c.Faces.UDP.Enabled
	fc.UDP.Lifetime = c.Faces.UDP.Lifetime.Duration
	for i, s := range c.Faces.UDP.Listen {
		fc.UDP.Listen = append(fc.UDP.Listen, parse(fmt.Sprintf("faces.udp.listen[%d]", i), s))
	}
	fc.TCP.Enabled = c.Faces.TCP.Enabled
	for i, s := range c.Faces.TCP.Listen {
		fc.TCP.Listen = append(fc.TCP.Listen, parse(fmt.Sprintf("faces.tcp.listen[%d]", i), s))
	}
	fc.Multicast = fw.MulticastConfig{
		Enabled:    c.Faces.Multicast.Enabled,
		Group:      parse("faces.multicast.group", c.Faces.Multicast.Group),
		Interfaces: c.Faces.Multicast.Interfaces,
	}
	fc.WebSocket = fw.WebSocketConfig{
		Enabled: c.Faces.WebSocket.Enabled,
		TLSCert: c.Faces.WebSocket.TLSCert,
		TLSKey:  c.Faces.WebSocket.TLSKey,
	}
	if c.Faces.WebSocket.Listen != "" {
		fc.WebSocket.Listen = parse("faces.websocket.listen", c.Faces.WebSocket.Listen)
	}
	level, err := ParseLevel(c.Log.ForwarderLevel)
	if err != nil {
		errs = append(errs, err)
	}
	fc.Logger = logger
	fc.ForwarderLogLevel = level
	fc.ForwarderLogWriter = logw
	fc.ForwarderLogJSON = c.Log.Format == "json"
	if err := errors.Join(errs...); err != nil {
		return fc, err
	}
	return fc, fc.Validate()
}
