package fw

import (
	"fmt"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
)

// An in-process face's traffic shows in the management face list (the
// faces/list dataset that nfdc and ndnd fw face-list read), not only in
// Faces: packets and bytes both ways, the same figures in both.
func TestInProcessFaceCountersInFaceList(t *testing.T) {
	prod, pf := newEngine(t)
	cons, cf := newEngine(t)
	serve(t, prod, pf.FaceID(), mustName(t, "/test/facelist"), []byte("payload"))
	const n = 4
	for i := range n {
		if _, err := fetch(t, cons, mustName(t, fmt.Sprintf("/test/facelist/%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	info := map[uint64]FaceInfo{}
	for _, fi := range testFwd.Faces() {
		info[fi.ID] = fi
	}
	p, c := info[pf.FaceID()], info[cf.FaceID()]
	if p.OutInterests != n || p.InData != n || c.InInterests != n || c.OutData != n {
		t.Fatalf("Faces: producer %+v, consumer %+v", p, c)
	}
	// Every Interest and Data is more than 20 bytes (name, nonce, content).
	if p.InBytes < 20*n || p.OutBytes < 20*n || c.InBytes < 20*n || c.OutBytes < 20*n {
		t.Errorf("bytes: producer in %d out %d, consumer in %d out %d", p.InBytes, p.OutBytes, c.InBytes, c.OutBytes)
	}

	// The dataset is fetched through the consumer's face: snapshot the
	// producer's figures, which that does not change.
	raw := fetchDataset(t, cons, mustName(t, "/localhost/nfd/faces/list"))
	msg, err := mgmt.ParseFaceStatusMsg(enc.NewBufferView(raw), true)
	if err != nil {
		t.Fatal(err)
	}
	var listed *mgmt.FaceStatus
	for _, fs := range msg.Vals {
		if fs.FaceId == pf.FaceID() {
			listed = fs
		}
	}
	if listed == nil {
		t.Fatalf("face %d not in the face list", pf.FaceID())
	}
	if listed.NInInterests != p.InInterests || listed.NOutInterests != p.OutInterests ||
		listed.NInData != p.InData || listed.NOutData != p.OutData ||
		listed.NInBytes != p.InBytes || listed.NOutBytes != p.OutBytes {
		t.Errorf("face list %+v, Faces %+v", listed, p)
	}
}
