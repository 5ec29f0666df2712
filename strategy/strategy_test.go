package strategy

import (
	"errors"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

// ndnd v1.5.3's strategies.
var v = Versions{"multicast": {1}, "best-route": {1}}

func TestFullName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"multicast", "/localhost/nfd/strategy/multicast/v=1", nil},
		{"best-route", "/localhost/nfd/strategy/best-route/v=1", nil},
		{"/localhost/nfd/strategy/multicast", "/localhost/nfd/strategy/multicast/v=1", nil},
		{"/localhost/nfd/strategy/multicast/v=1", "/localhost/nfd/strategy/multicast/v=1", nil},
		{"/localhost/nfd/strategy/multicast/v=2", "", ErrUnknown},
		{"/localhost/nfd/strategy/multicast/x", "", ErrUnversioned},
		{"/localhost/nfd/strategy/asf", "", ErrUnknown},
		{"asf", "", ErrUnknown},
		{"", "", ErrUnknown},
		{"/localhost/nfd/other/multicast", "", ErrNotStrategy},
		{"/localhost/nfd/strategy", "", ErrNotStrategy},
		{"/localhost/nfd/strategy/multicast/v=1/extra", "", ErrNotStrategy},
	} {
		got, err := v.FullName(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("FullName(%q) error %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("FullName(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
		if err := v.Check(got); err != nil {
			t.Errorf("Check(FullName(%q)): %v", tc.in, err)
		}
	}
}

func TestCheckRejectsWhatWouldCrashNdnd(t *testing.T) {
	for _, s := range []string{
		"/localhost/nfd/strategy/multicast",       // unversioned: nil strategy in ndnd
		"/localhost/nfd/strategy/nosuch/v=1",      // unknown
		"/localhost/nfd/strategy/multicast/v=7",   // unknown version
		"/localhost/nfd/strategy/multicast/seq=1", // not a version
		"/multicast/v=1",
	} {
		n, err := nameOf(s)
		if err != nil {
			t.Fatal(err)
		}
		if v.Check(n) == nil {
			t.Errorf("Check(%s) accepted", s)
		}
	}
}

func TestPlanGivesGroupsMulticast(t *testing.T) {
	plan, err := Plan(v, []string{"/ndn/svs", "/b"}, []Request{{Prefix: "/files", Strategy: "best-route"}, {Prefix: "/b", Strategy: "multicast"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/ndn/svs": "/localhost/nfd/strategy/multicast/v=1",
		"/b":       "/localhost/nfd/strategy/multicast/v=1",
		"/files":   "/localhost/nfd/strategy/best-route/v=1",
	}
	if len(plan) != len(want) {
		t.Fatalf("plan %v", plan)
	}
	for i, c := range plan {
		if want[c.Prefix.String()] != c.Strategy.String() {
			t.Errorf("%s -> %s", c.Prefix, c.Strategy)
		}
		if i > 0 && plan[i-1].Prefix.Compare(c.Prefix) >= 0 {
			t.Errorf("plan not sorted: %v", plan)
		}
	}
}

func TestPlanRefusesConflictsAndBadInput(t *testing.T) {
	if _, err := Plan(v, []string{"/g"}, []Request{{Prefix: "/g", Strategy: "best-route"}}); !errors.Is(err, ErrConflict) {
		t.Errorf("group overridden with best-route: %v", err)
	}
	if _, err := Plan(v, nil, []Request{{Prefix: "/x", Strategy: "fastest"}}); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown strategy: %v", err)
	}
	if _, err := Plan(v, []string{""}, nil); !errors.Is(err, ErrPrefix) {
		t.Errorf("empty prefix: %v", err)
	}
}

func nameOf(s string) (enc.Name, error) { return enc.NameFromStr(s) }

func TestMalformedNamesAreErrors(t *testing.T) {
	for _, s := range []string{"/=x", "/a/=", "/localhost/nfd/strategy/="} {
		if _, err := v.FullName(s); err == nil {
			t.Errorf("FullName(%q) accepted", s)
		}
		if _, err := Plan(v, []string{s}, nil); err == nil {
			t.Errorf("Plan(%q) accepted", s)
		}
	}
}
