package config

// DefaultMetricsListen is metrics.listen's default: loopback only, so a
// node's figures are not on the network until an operator says so.
const DefaultMetricsListen = "127.0.0.1:9363"

// Metrics is the [metrics] table: the HTTP listener that serves /metrics
// (Prometheus), /healthz and /readyz.
type Metrics struct {
	// Enabled turns the HTTP listener on.
	Enabled bool `toml:"enabled"`
	// Listen is one host:port address; port 0 picks a free port.
	Listen string `toml:"listen"`
	// PerMember adds series per group member (last heard, sequence
	// number). Off by default: their number grows with the group.
	PerMember bool `toml:"per_member"`
}

func defaultMetrics() Metrics {
	return Metrics{Enabled: true, Listen: DefaultMetricsListen, PerMember: false}
}

func (c Config) checkMetrics(ch *checker) {
	m := c.Metrics
	if m.Listen == "" {
		if m.Enabled {
			ch.add("metrics.listen", "empty while metrics.enabled is true: give a host:port address")
		}
		return
	}
	if _, err := parseListen(m.Listen); err != nil {
		ch.bad("metrics.listen", m.Listen, err)
	}
}
