package node

import (
	"context"
	"log/slog"
	"slices"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// liveKeys are the keys Reload applies to a running node. Every other key
// takes effect at the next start: listeners, faces, groups and the
// forwarder are built once, and ndnd's forwarder logger is a process
// global set at start.
var liveKeys = []string{"log.level"}

// Reload works out what taking next in place of running means for a node
// that runs on running: it applies the keys that can change live (today
// log.level, through level) and returns them in applied, and returns the
// other keys that differ in restart. now is the configuration in force
// afterwards: running with the applied keys taken from next. next must
// have passed Validate. Reload logs each key: applied ones at the higher of
// the old and new levels, so that the change shows whichever way it goes,
// and restart ones as warnings.
func Reload(running, next config.Config, level *slog.LevelVar, logger *slog.Logger) (now config.Config, applied, restart []string) {
	now = running
	for _, k := range config.Changed(running, next) {
		if !slices.Contains(liveKeys, k) {
			restart = append(restart, k)
			logger.Warn("configuration change needs a restart: the node keeps the running value", "key", k)
			continue
		}
		switch k {
		case "log.level":
			lv, err := ParseLevel(next.Log.Level)
			if err != nil { // next passed Validate: not reached
				logger.Error("reload", "key", k, "err", err)
				continue
			}
			logger.Log(context.Background(), max(level.Level(), lv), "configuration change applied",
				"key", k, "from", running.Log.Level, "to", next.Log.Level)
			level.Set(lv)
			now.Log.Level = next.Log.Level
		}
		applied = append(applied, k)
	}
	return now, applied, restart
}
