package config

import (
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string such
// as "10m", "1h30m" or "200ms". TOML has no duration type and a bare number
// would leave the unit to guesswork, so numbers are refused. It is a struct,
// not a named int64, so that the decoder cannot store a TOML integer in it
// as nanoseconds behind UnmarshalText's back.
type Duration struct {
	time.Duration
}

// String formats d like time.Duration, without zero trailing units: "10m"
// rather than "10m0s", "1h" rather than "1h0m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts what
// time.ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return &durationError{text: string(b)}
	}
	d.Duration = v
	return nil
}

// durationError is returned by Duration.UnmarshalText. It is a type of its
// own because go-toml v2.4.3 returns it without a position when the TOML
// value is a number or a boolean rather than a string, and Parse then has
// to find the key itself (see locateDurationError).
type durationError struct {
	text string
}

func (e *durationError) Error() string {
	return "invalid duration " + quote(e.text) + `: want a Go duration such as "10m" or "200ms"`
}
