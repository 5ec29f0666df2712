package config

import (
	"slices"
	"testing"
	"time"
)

func TestChanged(t *testing.T) {
	a := Default()
	if got := Changed(a, Default()); len(got) != 0 {
		t.Errorf("Changed(default, default) = %q", got)
	}
	b := Default()
	b.Log.Level = "debug"
	b.Faces.UDP.Listen = []string{"127.0.0.1:6363"}
	b.Faces.UDP.Lifetime = Duration{time.Minute}
	b.Groups = append(b.Groups, Group{Prefix: "/g2"})
	b.Faces.Multicast.Interfaces = nil // empty before and after
	want := []string{"log.level", "faces.udp.listen", "faces.udp.lifetime", "group"}
	if got := Changed(a, b); !slices.Equal(got, want) {
		t.Errorf("Changed = %q, want %q", got, want)
	}
}
