package config

import (
	"errors"
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
