package config

import "time"

// Bounds of the [health] table, checked by Validate.
const (
	MinHealthInterval = 100 * time.Millisecond
	MaxHealthInterval = time.Hour
	MinHealthExpire   = 2
	MaxHealthExpire   = 100
)

// Health is the [health] table: the heartbeat sync (the seed's
// SVSyncHealth) the node runs beside each group, on /<group>/health, so
// that its log says when another node comes and goes.
type Health struct {
	// Enabled runs the heartbeat on every group.
	Enabled bool `toml:"enabled"`
	// Interval is how often the node beats, and how often it expects the
	// others to (each beat jittered by ±10 %).
	Interval Duration `toml:"interval"`
	// Expire is how many intervals a peer may stay silent before it is
	// reported gone.
	Expire int `toml:"expire"`
}

func defaultHealth() Health {
	return Health{Enabled: true, Interval: Duration{5 * time.Second}, Expire: 3}
}

func (c Config) checkHealth(ch *checker) {
	h := c.Health
	if d := h.Interval.Duration; d < MinHealthInterval || d > MaxHealthInterval {
		ch.add("health.interval", "%s out of range %v..%v", h.Interval, MinHealthInterval, MaxHealthInterval)
	}
	ch.intRange("health.expire", h.Expire, MinHealthExpire, MaxHealthExpire, " (intervals of silence before a peer is reported gone)")
}
