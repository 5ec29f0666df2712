package fw

import (
	"slices"
	"testing"

	"github.com/named-data/ndnd/fw/table"
)

// A capture route under an inherited one takes its subtree alone, while a
// plain route there also gets the parent's faces (ChildInherit): a fetch of
// a member's own publications goes to that member only.
func TestCaptureRouteDoesNotInherit(t *testing.T) {
	faces := make([]uint64, 3)
	for i := range faces {
		af, err := testFwd.NewFace()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { af.Close() })
		faces[i] = af.FaceID()
	}
	group := mustName(t, "/capture-test/g")
	for _, id := range faces[:2] {
		if err := testFwd.AddRoute(group, id, 0, OriginApp); err != nil {
			t.Fatal(err)
		}
	}
	if err := testFwd.AddCaptureRoute(mustName(t, "/capture-test/g/own"), faces[2], 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	if err := testFwd.AddRoute(mustName(t, "/capture-test/g/other"), faces[2], 0, OriginApp); err != nil {
		t.Fatal(err)
	}
	hops := func(name string) []uint64 {
		var out []uint64
		for _, h := range table.FibStrategyTable.FindNextHopsEnc(mustName(t, name)) {
			out = append(out, h.Nexthop)
		}
		slices.Sort(out)
		return out
	}
	if got := hops("/capture-test/g/own/t=1/seq=2"); !slices.Equal(got, faces[2:]) {
		t.Errorf("under the capture route: next hops %v, want %v", got, faces[2:])
	}
	if got := hops("/capture-test/g/other/x"); !slices.Equal(got, faces) {
		t.Errorf("under the plain route: next hops %v, want %v (inherited)", got, faces)
	}
	if err := testFwd.AddCaptureRoute(group, 1<<40, 0, OriginApp); err == nil {
		t.Error("a capture route to a face that does not exist was accepted")
	}
}
