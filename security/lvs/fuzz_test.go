package lvs

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	ts "github.com/named-data/ndnd/std/security/trust_schema"
)

// probeNames gives names that walk into a model: one follows the first value edge at each
// step (a generic component where there is none), so Check reaches deep nodes and their
// constraints, plus a few short names.
func probeNames(m *ts.LvsModel) []enc.Name {
	names := []enc.Name{
		{enc.NewGenericComponent("x")},
		{enc.NewGenericComponent("KEY"), enc.NewGenericComponent("x")},
	}
	var walk enc.Name
	cur := m.StartId
	for range 64 {
		if cur >= uint64(len(m.Nodes)) {
			break
		}
		node := m.Nodes[cur]
		if len(node.Edges) > 0 {
			c, err := enc.ComponentFromBytes(node.Edges[0].Value)
			if err != nil {
				break
			}
			walk = append(walk, c)
			cur = node.Edges[0].Dest
		} else if len(node.PatternEdges) > 0 {
			walk = append(walk, enc.NewGenericComponent("x"))
			cur = node.PatternEdges[0].Dest
		} else {
			break
		}
		names = append(names, slices.Clone(walk))
	}
	return names
}

// exercise runs ndnd's matcher over probe names, as a remote packet would.
func exercise(s *ts.LvsSchema, m *ts.LvsModel) {
	names := probeNames(m)
	for _, p := range names {
		for _, k := range names {
			s.Check(p, k)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, g := range goldens {
		f.Add(string(readTestdata(f, g.src)))
	}
	f.Add(groupSchema)
	f.Add("#a: x & { x: $f(, x) }\n#b: #a/\"%C1\" <= #a")
	f.Add("#r: a/_x/_x & { _x: \"v=1\" | a }")
	f.Fuzz(func(t *testing.T, src string) {
		b, err := Compile(src)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.Pos.Line < 1 || le.Pos.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		again, err := Compile(src)
		if err != nil || !bytes.Equal(b, again) {
			t.Fatalf("a second compile differs: %v", err)
		}
		if _, err := ts.NewLvsSchema(b); err != nil {
			t.Fatalf("ndnd refuses the compiled model: %v", err)
		}
		fromText, errText := Load([]byte(src))
		fromBin, errBin := Load(b)
		if errBin != nil && errText == nil {
			t.Fatalf("text accepted, its binary refused: %v", errBin)
		}
		m, err := ts.ParseLvsModel(enc.NewBufferView(b), false)
		if err != nil {
			t.Fatal(err)
		}
		if fromText != nil {
			exercise(fromText, m)
		}
		if fromBin != nil {
			exercise(fromBin, m)
		}
	})
}

// FuzzLoad feeds arbitrary bytes to Load as a binary model: it must refuse or accept without
// panicking, and a model it accepts must not make ndnd's matcher panic.
func FuzzLoad(f *testing.F) {
	for _, g := range goldens {
		f.Add(readTestdata(f, g.bin))
	}
	f.Add(doubledChain(40).Bytes()) // 2^40 steps per name if Load let it through
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != tlvModelVersion {
			return // text: FuzzCompile's job
		}
		s, err := Load(b)
		if err != nil {
			return
		}
		m, err := ts.ParseLvsModel(enc.NewBufferView(b), false)
		if err != nil {
			t.Fatalf("Load accepted what ndnd cannot parse: %v", err)
		}
		exercise(s, m)
	})
}
