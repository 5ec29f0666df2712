package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// parseCase is a document and the one problem Parse must report for it.
type parseCase struct {
	name   string
	doc    string
	key    string
	line   int
	reason string
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "config.toml")
			if err == nil {
				t.Fatalf("want an error at %s, got none", tt.key)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Parse returned a non-zero Config with its error")
			}
			p := wantProblem(t, err, tt.key, tt.reason)
			if p.Line != tt.line || p.File != "config.toml" {
				t.Errorf("problem at %s:%d, want config.toml:%d (%v)", p.File, p.Line, tt.line, p)
			}
			if n := len(problemsOf(t, err)); n != 1 {
				t.Errorf("want 1 problem, got %d:\n%v", n, err)
			}
		})
	}
}

func TestParseUnknownKey(t *testing.T) {
	runParseCases(t, []parseCase{
		{"top-level key", "colour = 1\n", "colour", 1, "unknown key"},
		{"typo with suggestion", "[log]\nlevel = \"info\"\nlevl = \"debug\"\n", "log.levl", 3, "unknown key (did you mean log.level?)"},
		{"unknown table", "\n[faces.quic]\nenabled = true\n", "faces.quic", 2, "unknown table"},
		{"unknown top table", "[metric]\nlisten = \"x\"\n", "metric", 1, "unknown table"},
		{"dotted key", "faces.udp.lisen = []\n", "faces.udp.lisen", 1, "did you mean faces.udp.listen?"},
		{"in second array table", "[[group]]\nprefix = \"/a\"\n\n[[group]]\nprefx = \"/b\"\nprefix = \"/c\"\n", "group[1].prefx", 5, "did you mean group[1].prefix?"},
		{"in inline table", "[faces]\nudp = { enabled = true, port = 6363 }\n", "faces.udp.port", 2, "unknown key"},
		{"old ndnd name", "[faces.udp]\nport_unicast = 6363\n", "faces.udp.port_unicast", 2, "unknown key"},
		{"far from anything", "[forwarder]\nzzzzzzzz = 1\n", "forwarder.zzzzzzzz", 2, "unknown key"},
	})
}

func TestParseWrongType(t *testing.T) {
	runParseCases(t, []parseCase{
		{"string for bool", "[faces.udp]\nenabled = \"yes\"\n", "faces.udp.enabled", 2, "wrong type: got a string, want a boolean"},
		{"integer for string", "[log]\n\nlevel = 3\n", "log.level", 3, "wrong type: got an integer, want a string"},
		{"float for integer", "[forwarder]\nthreads = 1.5\n", "forwarder.threads", 2, "wrong type: got a float, want an integer"},
		{"string for integer", "[forwarder]\nqueue_size = \"1024\"\n", "forwarder.queue_size", 2, "want an integer"},
		{"string for array", "[faces.udp]\nlisten = \"0.0.0.0:6363\"\n", "faces.udp.listen", 2, "want an array of strings"},
		{"integer in array", "[faces.tcp]\nlisten = [\n  \"0.0.0.0:1\",\n  2,\n]\n", "faces.tcp.listen[1]", 4, "wrong type: got an integer, want a string"},
		{"integer overflow", "[forwarder]\nthreads = 99999999999999999999\n", "forwarder.threads", 2, "too large"},
		{"in array table", "[[group]]\nprefix = \"/a\"\n[[group]]\nprefix = 7\n", "group[1].prefix", 4, "want a string"},
		{"duration as integer", "[faces.udp]\nenabled = true\nlifetime = 600\n", "faces.udp.lifetime", 3, `wrong type: got 600, want a duration string such as "10m"`},
		{"duration as bool", "[faces.udp]\nlifetime = true\n", "faces.udp.lifetime", 2, "want a duration string"},
		{"duration bad text", "[faces.udp]\nlifetime = \"10 minutes\"\n", "faces.udp.lifetime", 2, `invalid duration "10 minutes"`},
		{"duration without unit", "[faces.udp]\nlifetime = \"600\"\n", "faces.udp.lifetime", 2, "invalid duration"},
	})
}

func TestParseSyntaxError(t *testing.T) {
	runParseCases(t, []parseCase{
		{"unclosed table", "[log]\nlevel = \"info\"\n[forwarder\n", "", 3, "expected ']'"},
		{"unclosed string", "[log]\nlevel = \"info\n", "", 2, ""},
		{"duplicate key", "[log]\nlevel = \"info\"\nlevel = \"warn\"\n", "log.level", 3, ""},
		{"duplicate table", "[log]\n[log]\n", "log", 2, ""},
	})
}

// Semantic problems point at the line of the offending key, however the
// document spells it.
func TestParseValidationLines(t *testing.T) {
	runParseCases(t, []parseCase{
		{"plain key", "[log]\nformat = \"text\"\nlevel = \"loud\"\n", "log.level", 3, `"loud": want one of`},
		{"dotted key at top", "\nforwarder.content_store.capacity = -1\n", "forwarder.content_store.capacity", 2, "out of range"},
		{"inline table", "[faces]\nmulticast = { enabled = true,\n  group = \"10.0.0.1:1\" }\n", "faces.multicast.group", 3, "not an IPv4 multicast"},
		{"array element on its own line", "[faces.udp]\nlisten = [\n  \"0.0.0.0:6363\",\n  \"1.2.3.4:99999\",\n]\n", "faces.udp.listen[1]", 4, `"1.2.3.4:99999": port out of range`},
		{"whole array", "[faces.udp]\nenabled = true\nlisten = []\n", "faces.udp.listen", 3, "list at least one address"},
		{"second array table", "[[group]]\nprefix = \"/a\"\n[[group]]\nprefix = \"/\"\n", "group[1].prefix", 4, "longer than \"/\""},
		{"inline array of tables", "group = [\n  { prefix = \"/a\" },\n  { prefix = \"/a\" },\n]\n", "group[1].prefix", 3, "duplicate of group[0].prefix"},
		{"neighbour prefix", "[[neighbor]]\nuri = \"udp4://192.0.2.1:6363\"\nprefixes = [\"/ok\",\n  \"bad\"]\n", "neighbor[0].prefixes[1]", 4, `must start with "/"`},
		{"strategy after groups", "[[group]]\nprefix = \"/g\"\n\n[[strategy]]\nprefix = \"/g\"\nname = \"best-route\"\n", "strategy[0].name", 6, "always uses multicast"},
		{"absent key points at its table", "[faces.websocket]\ntls_cert = \"/c.pem\"\n", "faces.websocket.tls_key", 1, "set both"},
		{"missing required key points at its table", "[[group]]\nprefix = \"/a\"\n\n[[group]]\n", "group[1].prefix", 4, "missing or empty"},
		{"quoted keys", "[\"faces\".'udp']\n\"listen\" = [\"x\"]\n", "faces.udp.listen[0]", 2, "want host:port"},
	})
}

// A problem whose key is nowhere in the document has no line.
func TestParseProblemWithoutLine(t *testing.T) {
	// Default UDP listen addresses, with UDP enabled by default, and a
	// document that empties nothing: impossible to reach with defaults,
	// so use a document that only touches another table.
	_, err := Parse([]byte("[faces.tcp]\nenabled = true\nlisten = []\n"), "c.toml")
	p := wantProblem(t, err, "faces.tcp.listen", "at least one")
	if p.Line != 3 {
		t.Errorf("line = %d, want 3", p.Line)
	}

	e := &Error{File: "c.toml", Key: "log.level", Reason: "r"}
	if got := e.Error(); got != "config: c.toml: log.level: r" {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseCollectsAllProblems(t *testing.T) {
	doc := `[log]
level = "loud"
colour = "blue"

[forwarder]
threads = 64

[faces.udp]
listen = ["0.0.0.0:6363", "1.2.3.4:99999"]

[[group]]
prefix = "/"
`
	_, err := Parse([]byte(doc), "config.toml")
	want := []string{
		`config: config.toml:2: log.level: "loud": want one of debug, info, warn, error`,
		`config: config.toml:3: log.colour: unknown key`,
		`config: config.toml:6: forwarder.threads: 64 out of range 0..32 (0 means GOMAXPROCS)`,
		`config: config.toml:9: faces.udp.listen[1]: "1.2.3.4:99999": port out of range`,
		`config: config.toml:12: group[0].prefix: "/": a sync group needs a prefix longer than "/"`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("does not match ErrInvalid")
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "config.toml", Line: 12, Key: "faces.udp.listen[0]", Reason: `"1.2.3.4:99999": port out of range`},
			`config: config.toml:12: faces.udp.listen[0]: "1.2.3.4:99999": port out of range`},
		{Error{Key: "log.level", Reason: "bad"}, "config: log.level: bad"},
		{Error{Line: 3, Key: "log.level", Reason: "bad"}, "config: line 3: log.level: bad"},
		{Error{File: "f", Line: 1, Reason: "syntax"}, "config: f:1: syntax"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	long := quote(strings.Repeat("é", 100))
	if len(long) > maxQuoted+8 || !strings.HasSuffix(long, `"...`) {
		t.Errorf("quote did not shorten: %s", long)
	}
}

func TestKeyIndex(t *testing.T) {
	doc := `top = 1
[a]
b = 2
c.d = [
  1,
  [2, 3],
  { e = 4 },
]
[[t]]
x = 1
[[t]]
x = 2
[t.sub]
y = 3
[[t.arr]]
z = 4
inline = { p = { q = 5 } }
`
	ix := indexKeys([]byte(doc))
	want := map[string]int{
		"top": 1, "a": 2, "a.b": 3, "a.c": 4, "a.c.d": 4,
		"a.c.d[0]": 5, "a.c.d[1]": 4, "a.c.d[1][0]": 6, "a.c.d[2]": 7, "a.c.d[2].e": 7,
		"t": 9, "t[0]": 9, "t[0].x": 10, "t[1]": 11, "t[1].x": 12,
		"t[1].sub": 13, "t[1].sub.y": 14, "t[1].arr[0]": 15, "t[1].arr[0].z": 16,
		"t[1].arr[0].inline.p.q": 17,
	}
	for path, line := range want {
		if got, ok := ix.lines[path]; !ok || got != line {
			t.Errorf("line of %s = %d (found %v), want %d", path, got, ok, line)
		}
	}
	if got := ix.lookup("t[1].sub.missing"); got != 13 {
		t.Errorf("lookup falls back to %d, want 13", got)
	}
	if got := ix.lookup("nowhere.at.all"); got != 0 {
		t.Errorf("lookup of an absent path = %d, want 0", got)
	}
	if got := ix.indexed("t.x", 12); got != "t[1].x" {
		t.Errorf("indexed = %q", got)
	}
}

func TestPathHelpers(t *testing.T) {
	tests := []struct{ path, parent, stripped string }{
		{"a.b[2].c", "a.b[2]", "a.b.c"},
		{"a.b[2]", "a.b", "a.b"},
		{"a", "", "a"},
		{`a."x.y[1]".z`, `a."x.y[1]"`, `a."x.y[1]".z`},
		{`"q\"[0]"[3]`, `"q\"[0]"`, `"q\"[0]"`},
	}
	for _, tt := range tests {
		if got := parentKey(tt.path); got != tt.parent {
			t.Errorf("parentKey(%s) = %s, want %s", tt.path, got, tt.parent)
		}
		if got := stripIndexes(tt.path); got != tt.stripped {
			t.Errorf("stripIndexes(%s) = %s, want %s", tt.path, got, tt.stripped)
		}
	}
	if got := joinKey("a", "b c"); got != `a."b c"` {
		t.Errorf("joinKey = %s", got)
	}
}
