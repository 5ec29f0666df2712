package core

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		c := DefaultConfig()
		c.Self = nm("a")
		c.Boot = testBoot
		c.Rand = rand.New(rand.NewPCG(1, 1))
		return c
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"empty Self", func(c *Config) { c.Self = "" }},
		{"malformed Self", func(c *Config) { c.Self = "\x08\x05ab" }},
		{"zero Boot", func(c *Config) { c.Boot = 0 }},
		{"zero PeriodicTimeout", func(c *Config) { c.PeriodicTimeout = 0 }},
		{"negative PeriodicTimeout", func(c *Config) { c.PeriodicTimeout = -time.Second }},
		{"negative jitter", func(c *Config) { c.PeriodicJitter = -0.1 }},
		{"jitter 1", func(c *Config) { c.PeriodicJitter = 1 }},
		{"NaN jitter", func(c *Config) { c.PeriodicJitter = math.NaN() }},
		{"zero SuppressionPeriod", func(c *Config) { c.SuppressionPeriod = 0 }},
		{"zero factor", func(c *Config) { c.SuppressionFactor = 0 }},
		{"NaN factor", func(c *Config) { c.SuppressionFactor = math.NaN() }},
		{"infinite factor", func(c *Config) { c.SuppressionFactor = math.Inf(1) }},
		{"sub-second MaxFutureBoot", func(c *Config) { c.MaxFutureBoot = time.Millisecond }},
		{"nil Rand", func(c *Config) { c.Rand = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.mutate(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
			}
			if e, err2 := New(c, 0); e != nil || !errors.Is(err2, ErrInvalidConfig) {
				t.Fatalf("New = %v, %v; want nil, ErrInvalidConfig", e, err2)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.PeriodicTimeout != 30*time.Second || c.PeriodicJitter != 0.1 ||
		c.SuppressionPeriod != 200*time.Millisecond || c.SuppressionFactor != 10 ||
		c.MaxFutureBoot != 24*time.Hour {
		t.Fatalf("DefaultConfig = %+v", c)
	}
	if c.Self != "" || c.Boot != 0 || c.Rand != nil || c.InitialState != nil {
		t.Fatalf("DefaultConfig fills caller fields: %+v", c)
	}
}
