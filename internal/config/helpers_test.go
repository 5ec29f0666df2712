package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// problemsOf returns the *Error values err holds, in order.
func problemsOf(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]*Error, 0, len(errs))
	for _, e := range errs {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("error %q is not a *config.Error", e)
		}
		out = append(out, ce)
	}
	return out
}

// wantProblem fails unless err holds a problem at key whose reason contains
// reason, and returns it.
func wantProblem(t *testing.T, err error, key, reason string) *Error {
	t.Helper()
	ps := problemsOf(t, err)
	for _, p := range ps {
		if p.Key == key && strings.Contains(p.Reason, reason) {
			return p
		}
	}
	t.Fatalf("want a problem at %s containing %q, got:\n%v", key, reason, err)
	return nil
}

// mustParse parses doc and fails the test on error.
func mustParse(t *testing.T, doc string) Config {
	t.Helper()
	c, err := Parse([]byte(doc), "test.toml")
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", doc, err)
	}
	return c
}

// sameConfig reports whether a and b are equal, counting a nil slice equal
// to an empty one (toml.Marshal writes both as []).
func sameConfig(a, b Config) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}

func normalized(c Config) Config {
	c.Faces.UDP.Listen = nonNil(c.Faces.UDP.Listen)
	c.Faces.TCP.Listen = nonNil(c.Faces.TCP.Listen)
	c.Faces.Multicast.Interfaces = nonNil(c.Faces.Multicast.Interfaces)
	c.Groups = nonNil(c.Groups)
	c.Strategies = nonNil(c.Strategies)
	c.Security.Keys = nonNil(c.Security.Keys)
	c.Security.Anchors = nonNil(c.Security.Anchors)
	c.Security.CertPrefixes = nonNil(c.Security.CertPrefixes)
	nbs := make([]Neighbor, len(c.Neighbors))
	for i, nb := range c.Neighbors {
		nb.Prefixes = nonNil(nb.Prefixes)
		nbs[i] = nb
	}
	c.Neighbors = nbs
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
