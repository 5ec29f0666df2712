package node

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

// NewLogger returns the logger the configuration asks for, writing to w.
func NewLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	return NewLoggerLevel(c, w, new(slog.LevelVar))
}

// NewLoggerLevel is NewLogger with the level held in lv, set here from
// c.Level, so that it can be changed while the logger is in use (Reload).
func NewLoggerLevel(c config.Log, w io.Writer, lv *slog.LevelVar) (*slog.Logger, error) {
	level, err := ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	lv.Set(level)
	opts := &slog.HandlerOptions{Level: lv}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// ParseLevel parses debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("node: log level %q: %w", s, err)
	}
	return l, nil
}
