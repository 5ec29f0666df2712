package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Load reads the TOML file at path and returns its configuration, as Parse
// does; errors name path as their file. An error reading the file is
// returned wrapped, with the "config: " prefix, and does not match
// ErrInvalid.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a TOML document over Default and validates the result.
// source names the document in errors (a file name; "" for none). Keys the
// document does not set keep their defaults; a key this package does not
// know is an error. On error the returned Config is the zero value and the
// error joins one *Error per problem found.
func Parse(data []byte, source string) (Config, error) {
	cfg := Default()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&cfg)

	var ix *keyIndex
	index := func() *keyIndex {
		if ix == nil {
			ix = indexKeys(data)
		}
		return ix
	}
	var problems []*Error
	if err != nil {
		var de *toml.DecodeError
		var sme *toml.StrictMissingError
		var due *durationError
		switch {
		case errors.As(err, &sme):
			// Every field the target has was decoded; go on and
			// report the failed checks along with the unknown keys.
			for i := range sme.Errors {
				problems = append(problems, unknownKey(&sme.Errors[i], index(), source))
			}
		case errors.As(err, &de):
			// A syntax or type error stops the decoder: what
			// follows it was not read, so nothing more is checked.
			return Config{}, decodeProblem(de, data, source)
		case errors.As(err, &due):
			return Config{}, locateDurationError(due, data, source)
		default:
			return Config{}, &Error{File: source, Reason: err.Error()}
		}
	}

	if checks := cfg.problems(); len(checks) > 0 {
		for _, p := range checks {
			p.File = source
			p.Line = index().lookup(p.Key)
		}
		problems = append(problems, checks...)
	}
	if len(problems) > 0 {
		return Config{}, joinErrors(problems)
	}
	return cfg, nil
}

// unknownKey turns one of go-toml's strict-mode errors into an *Error.
func unknownKey(de *toml.DecodeError, ix *keyIndex, source string) *Error {
	line, _ := de.Position()
	key := ix.indexed(plainKey(de.Key()), line)
	reason := "unknown key"
	if strings.Contains(de.Error(), "missing table") {
		reason = "unknown table"
	}
	if s := suggest(key); s != "" {
		reason += " (did you mean " + s + "?)"
	}
	return &Error{File: source, Line: line, Key: key, Reason: reason}
}

// decodeProblem turns a syntax or type error into an *Error.
func decodeProblem(de *toml.DecodeError, data []byte, source string) *Error {
	line, _ := de.Position()
	key := ""
	if parts := de.Key(); len(parts) > 0 {
		key = indexKeys(data).indexed(plainKey(parts), line)
	}
	reason := strings.TrimPrefix(de.Error(), "toml: ")
	return &Error{File: source, Line: line, Key: key, Reason: friendlyTypeError(reason)}
}

// locateDurationError finds the key of a Duration given a number or a
// boolean, which go-toml reports without a position: the first key of
// Duration type whose value is not a string and reads as the rejected text.
func locateDurationError(due *durationError, data []byte, source string) *Error {
	e := &Error{File: source, Reason: "wrong type: got " + strings.Trim(quote(due.text), `"`) + `, want a duration string such as "10m"`}
	ix := indexKeys(data)
	for path, sc := range ix.scalars {
		if sc.kind == unstable.String || sc.text != due.text || !durationKeys[stripIndexes(path)] {
			continue
		}
		if l := ix.lines[path]; e.Key == "" || l < e.Line {
			e.Key, e.Line = path, l
		}
	}
	return e
}

var mismatchRE = regexp.MustCompile(`^cannot decode TOML (\S+) into (?:struct field \S+ of type )?(\S+)$`)

// friendlyTypeError rewrites go-toml's "cannot decode TOML string into int"
// in the words of a config file. Messages it does not recognise pass
// through unchanged.
func friendlyTypeError(msg string) string {
	m := mismatchRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return "wrong type: got " + tomlKindWord(m[1]) + ", want " + goTypeWord(m[2])
}

func tomlKindWord(kind string) string {
	switch kind {
	case "integer", "array", "inline table":
		return "an " + kind
	}
	return "a " + kind
}

func goTypeWord(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean (true or false)"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "config.Duration":
		return `a duration string such as "10m"`
	case t == "[]string":
		return "an array of strings"
	case strings.HasPrefix(t, "[]config."):
		return "an array of tables"
	case strings.HasPrefix(t, "config."):
		return "a table"
	}
	return t
}

// knownKeys maps each table path of the schema, without array indexes, to
// the keys it accepts, and durationKeys holds the paths of Duration values.
// Both are derived from the toml tags of Config.
var knownKeys, durationKeys = func() (map[string][]string, map[string]bool) {
	m := map[string][]string{}
	durations := map[string]bool{}
	var walk func(path string, t reflect.Type)
	walk = func(path string, t reflect.Type) {
		for t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t == reflect.TypeFor[Duration]() {
			durations[path] = true
			return
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			m[path] = append(m[path], name)
			walk(joinKey(path, name), f.Type)
		}
	}
	walk("", reflect.TypeFor[Config]())
	return m, durations
}()

// suggest returns the known key closest to an unknown one, with the same
// parent, when it is close enough to be a typo; else "".
func suggest(key string) string {
	parent := parentKey(key)
	bad := lastPart(key)
	if uq, err := strconv.Unquote(bad); err == nil {
		bad = uq
	}
	best, bestDist := "", 3
	for _, k := range knownKeys[stripIndexes(parent)] {
		if d := editDistance(bad, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return joinKey(parent, best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
