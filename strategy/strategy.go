// Package strategy decides which of the forwarder's built-in strategies each
// name prefix gets, and checks strategy names before they reach ndnd.
//
// ndnd v1.5.3 trusts the strategy name it is given: an unversioned or unknown
// name set directly in its strategy table makes the forwarding goroutine call
// a nil strategy and the process dies. Every name that leaves this package is
// therefore complete (/localhost/nfd/strategy/<name>/v=<n>) and known to the
// running forwarder.
package strategy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Short names of ndnd v1.5.3's built-in strategies.
const (
	Multicast = "multicast"
	BestRoute = "best-route"
)

// Errors returned by this package.
var (
	ErrUnknown     = errors.New("strategy: unknown strategy")
	ErrUnversioned = errors.New("strategy: strategy name has no version")
	ErrNotStrategy = errors.New("strategy: not under /localhost/nfd/strategy")
	ErrConflict    = errors.New("strategy: conflicting choices for one prefix")
	ErrPrefix      = errors.New("strategy: invalid prefix")
)

// Prefix is the name prefix every strategy name lives under.
var Prefix = enc.Name{
	enc.NewGenericComponent("localhost"),
	enc.NewGenericComponent("nfd"),
	enc.NewGenericComponent("strategy"),
}

// Versions lists, for each strategy short name, the versions the running
// forwarder implements. The fw package supplies it from ndnd.
type Versions map[string][]uint64

// Known returns the short names in v, sorted.
func (v Versions) Known() []string {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FullName returns the complete, versioned strategy name for a short name
// ("multicast") or a full one given as a URI, with or without version. An
// unversioned name gets the newest version the forwarder knows.
func (v Versions) FullName(name string) (enc.Name, error) {
	short := name
	var version *uint64
	if strings.HasPrefix(name, "/") {
		n, err := parseName(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrUnknown, name, err)
		}
		if !Prefix.IsPrefix(n) || len(n) < len(Prefix)+1 || len(n) > len(Prefix)+2 {
			return nil, fmt.Errorf("%w: %q", ErrNotStrategy, name)
		}
		short = string(n[len(Prefix)].Val)
		if n[len(Prefix)].Typ != enc.TypeGenericNameComponent {
			return nil, fmt.Errorf("%w: %q", ErrUnknown, name)
		}
		if len(n) == len(Prefix)+2 {
			c := n[len(Prefix)+1]
			if c.Typ != enc.TypeVersionNameComponent {
				return nil, fmt.Errorf("%w: %q: last component is not a version", ErrUnversioned, name)
			}
			ver := c.NumberVal()
			version = &ver
		}
	}
	versions, ok := v[short]
	if !ok || len(versions) == 0 {
		return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknown, name, strings.Join(v.Known(), ", "))
	}
	ver := slices.Max(versions)
	if version != nil {
		if !slices.Contains(versions, *version) {
			return nil, fmt.Errorf("%w: %q: version %d not implemented (have %v)", ErrUnknown, name, *version, versions)
		}
		ver = *version
	}
	return Prefix.
		Append(enc.NewGenericComponent(short)).
		Append(enc.NewVersionComponent(ver)), nil
}

// Check returns nil if name is a complete strategy name the forwarder
// implements. It is the last check before a name reaches ndnd.
func (v Versions) Check(name enc.Name) error {
	if len(name) != len(Prefix)+2 || !Prefix.IsPrefix(name) {
		return fmt.Errorf("%w: %s", ErrNotStrategy, name)
	}
	last := name[len(name)-1]
	if last.Typ != enc.TypeVersionNameComponent {
		return fmt.Errorf("%w: %s", ErrUnversioned, name)
	}
	short := name[len(Prefix)]
	if short.Typ != enc.TypeGenericNameComponent {
		return fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	if !slices.Contains(v[string(short.Val)], last.NumberVal()) {
		return fmt.Errorf("%w: %s (known: %s)", ErrUnknown, name, strings.Join(v.Known(), ", "))
	}
	return nil
}

// Choice is one strategy choice: every Interest under Prefix is forwarded by
// Strategy (a complete, versioned name).
type Choice struct {
	Prefix   enc.Name
	Strategy enc.Name
}

// Request is a strategy choice as configured: a prefix URI and a strategy
// short or full name.
type Request struct {
	Prefix   string
	Strategy string
}

// Plan turns the sync group prefixes and the extra requests into the list
// of choices to install. Every group prefix gets multicast, which State Vector
// Sync needs: with best-route a Sync Interest reaches one member only. A
// prefix named twice must name the same strategy. The result is sorted by
// prefix, so the plan is deterministic.
func Plan(v Versions, groups []string, extra []Request) ([]Choice, error) {
	reqs := make([]Request, 0, len(groups)+len(extra))
	for _, g := range groups {
		reqs = append(reqs, Request{Prefix: g, Strategy: Multicast})
	}
	reqs = append(reqs, extra...)

	byPrefix := make(map[string]Choice, len(reqs))
	var errs []error
	for _, r := range reqs {
		p, err := parseName(r.Prefix)
		if err != nil || r.Prefix == "" {
			errs = append(errs, fmt.Errorf("%w: %q", ErrPrefix, r.Prefix))
			continue
		}
		s, err := v.FullName(r.Strategy)
		if err != nil {
			errs = append(errs, fmt.Errorf("prefix %s: %w", p, err))
			continue
		}
		key := p.String()
		if prev, ok := byPrefix[key]; ok && !prev.Strategy.Equal(s) {
			errs = append(errs, fmt.Errorf("%w: %s: %s and %s", ErrConflict, key, prev.Strategy, s))
			continue
		}
		byPrefix[key] = Choice{Prefix: p, Strategy: s}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]Choice, 0, len(byPrefix))
	for _, c := range byPrefix {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Choice) int { return a.Prefix.Compare(b.Prefix) })
	return out, nil
}

// parseName is enc.NameFromStr without its crash: ndnd v1.5.3 indexes out of
// range on some malformed URIs ("/=x", "/a/="). Names here come from
// configuration and library callers, so a bad one must be an error.
func parseName(s string) (n enc.Name, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%w: %q: malformed name", ErrPrefix, s)
		}
	}()
	return enc.NameFromStr(s)
}
