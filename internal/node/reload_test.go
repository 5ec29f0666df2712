package node

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// A reload applies log.level at once, lists and logs the keys that need a
// restart, and leaves them at their running values.
func TestReloadAppliesTheLogLevelAndListsTheRest(t *testing.T) {
	running := config.Default()
	var b bytes.Buffer
	lv := new(slog.LevelVar)
	logger, err := NewLoggerLevel(running.Log, &b, lv)
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("before")

	next := config.Default()
	next.Log.Level = "debug"
	next.Node.Ping = false
	next.Groups = []config.Group{{Prefix: "/other"}}
	now, applied, restart := Reload(running, next, lv, logger)
	if !slices.Equal(applied, []string{"log.level"}) || !slices.Equal(restart, []string{"node.ping", "group"}) {
		t.Errorf("applied %q, restart %q", applied, restart)
	}
	if now.Log.Level != "debug" || !now.Node.Ping || now.Groups[0].Prefix != "/ndn/svs" {
		t.Errorf("configuration now in force: %+v", now)
	}
	logger.Debug("after")
	out := b.String()
	if strings.Contains(out, "before") || !strings.Contains(out, "after") {
		t.Errorf("the new level is not in force:\n%s", out)
	}
	for _, w := range []string{"key=log.level from=info to=debug", "needs a restart", "key=node.ping", "key=group"} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q:\n%s", w, out)
		}
	}

	// Up to error: the change itself still shows.
	b.Reset()
	next2 := now
	next2.Log.Level = "error"
	_, applied, restart = Reload(now, next2, lv, logger)
	if len(applied) != 1 || len(restart) != 0 || !strings.Contains(b.String(), "to=error") {
		t.Errorf("applied %q, restart %q, log:\n%s", applied, restart, b.String())
	}
	if lv.Level() != slog.LevelError {
		t.Errorf("level %v, want error", lv.Level())
	}

	// Nothing changed: nothing applied, nothing logged.
	b.Reset()
	if _, applied, restart = Reload(next2, next2, lv, logger); len(applied)+len(restart) != 0 || b.Len() != 0 {
		t.Errorf("no change: applied %q, restart %q, log %q", applied, restart, b.String())
	}
}
