package core

import (
	"cmp"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		a, b    *Vector
		want    *Vector
		aIsNil  bool
		bIsNil  bool
		wantLen int
	}{
		{name: "both empty", a: vec(), b: vec(), want: vec()},
		{name: "nil and empty", a: nil, b: vec(), want: vec()},
		{name: "disjoint nodes", a: vec(en("a", 1, 3)), b: vec(en("b", 1, 2)), want: vec(en("a", 1, 3), en("b", 1, 2))},
		{name: "max per pair", a: vec(en("a", 1, 3), en("b", 1, 9)), b: vec(en("a", 1, 5), en("b", 1, 2)), want: vec(en("a", 1, 5), en("b", 1, 9))},
		{name: "boots are separate pairs", a: vec(en("a", 1, 7)), b: vec(en("a", 2, 1)), want: vec(en("a", 1, 7), en("a", 2, 1))},
		{name: "equal", a: vec(en("a", 1, 3)), b: vec(en("a", 1, 3)), want: vec(en("a", 1, 3))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aBefore, bBefore := tt.a.Clone(), tt.b.Clone()
			mustEqual(t, "Merge(a, b)", Merge(tt.a, tt.b), tt.want)
			mustEqual(t, "Merge(b, a)", Merge(tt.b, tt.a), tt.want)
			mustEqual(t, "a after Merge", tt.a.Clone(), aBefore)
			mustEqual(t, "b after Merge", tt.b.Clone(), bBefore)
		})
	}
}

func TestOutdated(t *testing.T) {
	tests := []struct {
		name string
		a, b *Vector
		want bool
	}{
		{name: "empty vs empty", a: vec(), b: vec(), want: false},
		{name: "nil vs nil", a: nil, b: nil, want: false},
		{name: "empty vs one", a: vec(), b: vec(en("a", 1, 1)), want: true},
		{name: "nil vs one", a: nil, b: vec(en("a", 1, 1)), want: true},
		{name: "one vs nil", a: vec(en("a", 1, 1)), b: nil, want: false},
		{name: "equal", a: vec(en("a", 1, 4)), b: vec(en("a", 1, 4)), want: false},
		{name: "lower seq", a: vec(en("a", 1, 3)), b: vec(en("a", 1, 4)), want: true},
		{name: "higher seq", a: vec(en("a", 1, 5)), b: vec(en("a", 1, 4)), want: false},
		{name: "missing node", a: vec(en("a", 1, 5)), b: vec(en("a", 1, 5), en("b", 1, 1)), want: true},
		{name: "missing boot of known node", a: vec(en("a", 1, 5)), b: vec(en("a", 2, 1)), want: true},
		{name: "extra pairs in a do not matter", a: vec(en("a", 1, 5), en("c", 1, 1)), b: vec(en("a", 1, 5)), want: false},
		{name: "mixed: ahead on one, behind on another", a: vec(en("a", 1, 9), en("b", 1, 1)), b: vec(en("a", 1, 2), en("b", 1, 2)), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Outdated(tt.a, tt.b); got != tt.want {
				t.Fatalf("Outdated(%v, %v) = %v, want %v", tt.a.Entries(), tt.b.Entries(), got, tt.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		from, to *Vector
		want     []Update
	}{
		{name: "nothing new", from: vec(en("a", 1, 3)), to: vec(en("a", 1, 2)), want: nil},
		{name: "nil from", from: nil, to: vec(en("a", 1, 2)), want: []Update{{nm("a"), 1, 1, 2}}},
		{name: "nil to", from: vec(en("a", 1, 2)), to: nil, want: nil},
		{name: "range", from: vec(en("a", 1, 3)), to: vec(en("a", 1, 7)), want: []Update{{nm("a"), 1, 4, 7}}},
		{
			name: "wire order, boots ascending, only newer",
			from: vec(en("b", 1, 5), en("a", 2, 1)),
			to:   vec(en("b", 1, 4), en("a", 2, 3), en("a", 1, 2), en("c", 9, 1)),
			want: []Update{{nm("a"), 1, 1, 2}, {nm("a"), 2, 2, 3}, {nm("c"), 9, 1, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.from, tt.to)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Diff = %v, want %v", got, tt.want)
			}
			if (len(got) > 0) != Outdated(tt.from, tt.to) {
				t.Fatalf("Diff non-empty = %v but Outdated = %v", len(got) > 0, Outdated(tt.from, tt.to))
			}
		})
	}
}

func TestEqual(t *testing.T) {
	if !Equal(nil, vec()) {
		t.Error("nil and empty differ")
	}
	if Equal(vec(en("a", 1, 1)), vec(en("a", 1, 2))) {
		t.Error("different seqs are equal")
	}
	if Equal(vec(en("a", 1, 1)), vec(en("a", 1, 1), en("b", 1, 1))) {
		t.Error("subset is equal")
	}
	if !Equal(vec(en("a", 1, 1), en("b", 2, 3)), vec(en("b", 2, 3), en("a", 1, 1))) {
		t.Error("same pairs differ")
	}
}

// randomVector draws a small vector over a few nodes and boots, so that
// random pairs overlap often.
func randomVector(r *rand.Rand) *Vector {
	v := &Vector{}
	for range r.IntN(6) {
		v.Set(nm(string(rune('a'+r.IntN(4)))), uint64(1+r.IntN(2)), uint64(1+r.IntN(5)))
	}
	return v
}

// TestMergeProperties checks, over many seeds, that Merge is commutative,
// associative, idempotent and monotone (never outdated relative to an
// argument, and the least such vector).
func TestMergeProperties(t *testing.T) {
	for seed := range uint64(2000) {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		a, b, c := randomVector(r), randomVector(r), randomVector(r)
		ab := Merge(a, b)
		if !Equal(ab, Merge(b, a)) {
			t.Fatalf("seed %d: not commutative: %v vs %v", seed, ab.Entries(), Merge(b, a).Entries())
		}
		if !Equal(Merge(ab, c), Merge(a, Merge(b, c))) {
			t.Fatalf("seed %d: not associative", seed)
		}
		if !Equal(Merge(a, a), a) || !Equal(Merge(ab, b), ab) {
			t.Fatalf("seed %d: not idempotent", seed)
		}
		if Outdated(ab, a) || Outdated(ab, b) {
			t.Fatalf("seed %d: not monotone: %v outdated vs an argument", seed, ab.Entries())
		}
		for _, e := range ab.Entries() {
			if e.Seq != max(a.Get(e.Node, e.Boot), b.Get(e.Node, e.Boot)) {
				t.Fatalf("seed %d: %v is not the max of its arguments", seed, e)
			}
		}
		// Monotone in each argument: growing b never shrinks the merge.
		bigger := Merge(b, c)
		if Outdated(Merge(a, bigger), ab) {
			t.Fatalf("seed %d: merge not monotone in its argument", seed)
		}
		// Diff(a, b) is exactly what Merge adds to a.
		applied := a.Clone()
		for _, u := range Diff(a, b) {
			if u.Low == 0 || u.Low > u.High {
				t.Fatalf("seed %d: bad update %v", seed, u)
			}
			applied.Set(u.Node, u.Boot, u.High)
		}
		if !Equal(applied, ab) {
			t.Fatalf("seed %d: a + Diff(a, b) = %v, want Merge = %v", seed, applied.Entries(), ab.Entries())
		}
	}
}

func TestVectorAppend(t *testing.T) {
	a, b := Name("\x08\x01a"), Name("\x08\x01b")
	v := &Vector{}
	if !v.Append(Entry{Node: a, Boot: 1, Seq: 3}) || !v.Append(Entry{Node: a, Boot: 2, Seq: 1}) || !v.Append(Entry{Node: b, Boot: 1, Seq: 7}) {
		t.Fatal("in-order entries not appended")
	}
	for _, e := range []Entry{
		{Node: a, Boot: 1, Seq: 9}, // same pair
		{Node: a, Boot: 3, Seq: 1}, // sorts before b
		{Node: b, Boot: 2, Seq: 0}, // seq 0
	} {
		if v.Append(e) {
			t.Errorf("Append(%v) accepted out of order", e)
		}
	}
	if v.Len() != 3 || v.Get(a, 1) != 3 || v.Get(b, 1) != 7 {
		t.Errorf("vector %v", v.Entries())
	}
}

// canonicalCompare is NDN canonical order written out as the packet format
// defines it (component by component: TLV-TYPE, then TLV-LENGTH, then value
// bytes; a prefix first), the oracle for CompareNames' byte comparison.
func canonicalCompare(a, b Name) int {
	sa, sb := string(a), string(b)
	for len(sa) > 0 && len(sb) > 0 {
		ta, ra, _ := readVarNum(sa)
		la, ra, _ := readVarNum(ra)
		tb, rb, _ := readVarNum(sb)
		lb, rb, _ := readVarNum(rb)
		if ta != tb {
			return cmp.Compare(ta, tb)
		}
		if la != lb {
			return cmp.Compare(la, lb)
		}
		if c := strings.Compare(ra[:la], rb[:lb]); c != 0 {
			return c
		}
		sa, sb = ra[la:], rb[lb:]
	}
	return cmp.Compare(len(sa), len(sb))
}

// appendVarNum appends x as a VAR-NUMBER in its shortest form.
func appendVarNum(b []byte, x uint64) []byte {
	switch {
	case x < 253:
		return append(b, byte(x))
	case x <= 0xFFFF:
		return append(b, 253, byte(x>>8), byte(x))
	case x <= 0xFFFFFFFF:
		return append(b, 254, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
	}
	return append(b, 255, byte(x>>56), byte(x>>48), byte(x>>40), byte(x>>32), byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
}

// TestCompareNamesIsCanonicalOrder: for names in shortest-form TLV, which
// is all the engine is given, the byte order CompareNames uses is NDN
// canonical order, across component types and lengths on both sides of
// every VAR-NUMBER width boundary.
func TestCompareNamesIsCanonicalOrder(t *testing.T) {
	types := []uint64{1, 8, 32, 252, 253, 254, 255, 256, 0xFFFF, 0x10000, 1 << 33}
	lengths := []int{0, 1, 2, 252, 253, 300}
	r := rand.New(rand.NewPCG(7, 7))
	randomName := func() Name {
		var b []byte
		for range r.IntN(4) {
			typ, l := types[r.IntN(len(types))], lengths[r.IntN(len(lengths))]
			if r.IntN(3) > 0 {
				l = r.IntN(3)
			}
			b = appendVarNum(appendVarNum(b, typ), uint64(l))
			for range l {
				b = append(b, "a\x00\xff"[r.IntN(3)])
			}
		}
		return Name(b)
	}
	for range 200000 {
		a, b := randomName(), randomName()
		if r.IntN(4) == 0 { // a shared prefix, the interesting case
			b = a + b
		}
		if !validName(a) || !validName(b) {
			t.Fatalf("generator made an invalid name %x or %x", a, b)
		}
		if got, want := CompareNames(a, b), canonicalCompare(a, b); got != want {
			t.Fatalf("CompareNames(%x, %x) = %d, canonical order says %d", a, b, got, want)
		}
	}
}

func TestValidNameNeedsShortestForm(t *testing.T) {
	for _, n := range []Name{"\xfd\x00\x08\x01a", "\x08\xfd\x00\x01a", "\xfe\x00\x00\x01\x00\x00"} {
		if validName(n) {
			t.Errorf("validName(%x) = true for a VAR-NUMBER longer than needed", n)
		}
	}
	if !validName("\xfd\x01\x00\x01a") || !validName("") {
		t.Error("validName rejects a shortest-form name")
	}
}
