package fw

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"
)

// pynfdcValues are the random values python-ndn puts in a request.
type pynfdcValues struct {
	nonce    uint32
	sigNonce uint64 // SignatureNonce (gen_nonce_64)
	sigTime  uint64 // SignatureTime, ms (timestamp)
}

func randomPynfdcValues() pynfdcValues {
	return pynfdcValues{nonce: rand.Uint32(), sigNonce: rand.Uint64(), sigTime: uint64(time.Now().UnixMilli())}
}

// pynfdcInterest encodes an Interest for name as python-ndn's pynfdc sends
// every request, datasets and commands alike (src/ndn/bin/nfdc/utils.py):
// CanBePrefix, MustBeFresh, a Nonce, InterestLifetime 1000, empty
// ApplicationParameters, InterestSignatureInfo with DigestSha256,
// SignatureNonce and SignatureTime, the SHA-256 of the name's components
// and of ApplicationParameters through InterestSignatureInfo as
// InterestSignatureValue, and a ParametersSha256DigestComponent at the end
// of the name (NDN packet format v0.3, signed Interest). The layout is
// checked against python-ndn's own encoding in TestPynfdcInterestEncoding.
func pynfdcInterest(name enc.Name, v pynfdcValues) []byte {
	var comps []byte
	for _, c := range name {
		comps = append(comps, c.Bytes()...)
	}
	appParams := tlv(0x24, nil)
	sigInfo := tlv(0x2c, join(tlv(0x1b, []byte{0}), tlv(0x26, nonNegInt(v.sigNonce)), tlv(0x28, nonNegInt(v.sigTime))))
	sig := sha256.Sum256(join(comps, appParams, sigInfo))
	sigValue := tlv(0x2e, sig[:])
	digest := sha256.Sum256(join(appParams, sigInfo, sigValue))
	nonce := binary.BigEndian.AppendUint32(nil, v.nonce)
	return tlv(0x05, join(
		tlv(0x07, join(comps, tlv(0x02, digest[:]))),
		tlv(0x21, nil), tlv(0x12, nil), tlv(0x0a, nonce), tlv(0x0c, nonNegInt(1000)),
		appParams, sigInfo, sigValue))
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// nonNegInt is an NDN NonNegativeInteger: 1, 2, 4 or 8 bytes, big-endian.
func nonNegInt(v uint64) []byte {
	switch {
	case v <= 0xff:
		return []byte{byte(v)}
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(nil, uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// pynfdcName is the name pynfdc asks for, before the digest component:
// /localhost/nfd/<request>, with a command's or query's parameters.
func pynfdcName(t *testing.T, request string, param []byte) enc.Name {
	t.Helper()
	name := mustName(t, "/localhost/nfd/"+request)
	if param != nil {
		name = name.Append(enc.NewGenericBytesComponent(param))
	}
	return name
}

func faceIDFilter(id uint64) []byte {
	return (&mgmt.FaceQueryFilter{Val: &mgmt.FaceQueryFilterValue{FaceId: optional.Some(id)}}).Encode().Join()
}

func controlParams(args *mgmt.ControlArgs) []byte {
	return (&mgmt.ControlParameters{Val: args}).Encode().Join()
}

// The Go encoder gives, byte for byte, what python-ndn encodes for the same
// random values (fw/testdata/mgmt/pynfdc_interests.txt, made by python-ndn).
func TestPynfdcInterestEncoding(t *testing.T) {
	raw, err := os.ReadFile("testdata/mgmt/pynfdc_interests.txt")
	if err != nil {
		t.Fatal(err)
	}
	fixed := pynfdcValues{nonce: 0x11223344, sigNonce: 0x0123456789abcdef, sigTime: 1764396000123}
	params := map[string][]byte{
		"faces/query":  faceIDFilter(1),
		"faces/create": controlParams(&mgmt.ControlArgs{Uri: optional.Some("tcp4://127.0.0.1:9")}),
		"rib/register": controlParams(&mgmt.ControlArgs{Name: mustName(t, "/test/pynfdc"), FaceId: optional.Some(uint64(7))}),
	}
	n := 0
	for line := range strings.Lines(string(raw)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		request, hexWire, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		want, err := hex.DecodeString(hexWire)
		if err != nil {
			t.Fatal(err)
		}
		got := pynfdcInterest(pynfdcName(t, request, params[request]), fixed)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", request, got, want)
		}
		n++
	}
	if n != 8 {
		t.Errorf("%d requests in the file, want 8", n)
	}
}

// pynfdcClient is a connection to the node's unix socket, as python-ndn's
// default transport opens it.
type pynfdcClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func newPynfdcClient(t *testing.T) *pynfdcClient {
	t.Helper()
	c, err := net.Dial("unix", testSock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &pynfdcClient{t: t, conn: c, r: bufio.NewReader(c)}
}

// request sends pynfdc's Interest for name and returns it and the Data
// that answers it (python-ndn waits 1 s; the test allows more, for a slow
// machine).
func (c *pynfdcClient) request(name enc.Name) ([]byte, ndn.Data) {
	c.t.Helper()
	wire := pynfdcInterest(name, randomPynfdcValues())
	return wire, c.send(wire, name)
}

// send writes an Interest (named name) and returns the first Data that
// comes back.
func (c *pynfdcClient) send(wire []byte, name enc.Name) ndn.Data {
	c.t.Helper()
	if _, err := c.conn.Write(wire); err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		frame, err := readTLV(c.r)
		if err != nil {
			c.t.Fatalf("%s: no answer: %v", name, err)
		}
		pkt, _, err := spec.ReadPacket(enc.NewBufferView(frame))
		if err != nil {
			c.t.Fatalf("%s: answer not a packet: %v", name, err)
		}
		if pkt.LpPacket != nil && len(pkt.LpPacket.Fragment) > 0 {
			if pkt, _, err = spec.ReadPacket(enc.NewWireView(pkt.LpPacket.Fragment)); err != nil {
				c.t.Fatalf("%s: fragment not a packet: %v", name, err)
			}
		}
		if pkt.Data != nil {
			return pkt.Data
		}
	}
}

// readTLV reads one TLV element (type, length, value) off a stream.
func readTLV(r *bufio.Reader) ([]byte, error) {
	var out []byte
	varNum := func() (uint64, error) {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		out = append(out, b)
		n := map[byte]int{0xfd: 2, 0xfe: 4, 0xff: 8}[b]
		if n == 0 {
			return uint64(b), nil
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0, err
		}
		out = append(out, buf...)
		var v uint64
		for _, x := range buf {
			v = v<<8 | uint64(x)
		}
		return v, nil
	}
	if _, err := varNum(); err != nil {
		return nil, err
	}
	l, err := varNum()
	if err != nil {
		return nil, err
	}
	if l > 1<<16 {
		return nil, fmt.Errorf("TLV length %d", l)
	}
	val := make([]byte, l)
	if _, err := io.ReadFull(r, val); err != nil {
		return nil, err
	}
	return append(out, val...), nil
}

// interestName is the name an encoded Interest carries.
func interestName(t *testing.T, wire []byte) enc.Name {
	t.Helper()
	pkt, _, err := spec.ReadPacket(enc.NewBufferView(wire))
	if err != nil || pkt.Interest == nil {
		t.Fatalf("not an Interest: %v", err)
	}
	return pkt.Interest.Name()
}

// wantDatasetSegment checks a Data is the first and only segment of a new
// dataset version for the Interest, named as NFD names it.
func wantDatasetSegment(t *testing.T, interest enc.Name, data ndn.Data) {
	t.Helper()
	name := data.Name()
	if !interest.IsPrefix(name) || len(name) != len(interest)+2 || !name.At(-2).IsVersion() ||
		!name.At(-1).Equal(enc.NewSegmentComponent(0)) {
		t.Errorf("Data %s, want %s/<version>/seg=0", name, interest)
	}
	if ct := data.ContentType().GetOr(ndn.ContentTypeBlob); ct != ndn.ContentTypeBlob {
		t.Errorf("%s: ContentType %d", name, ct)
	}
	if f := data.Freshness().GetOr(0); f != datasetFreshness {
		t.Errorf("%s: FreshnessPeriod %s, want %s", name, f, datasetFreshness)
	}
	if fb, ok := data.FinalBlockID().Get(); !ok || !fb.Equal(name.At(-1)) {
		t.Errorf("%s: FinalBlockId %v, want this segment", name, fb)
	}
}

// tlvNat returns the NonNegativeInteger of the first element of type typ
// in a sequence of TLV elements.
func tlvNat(t *testing.T, b []byte, typ byte) uint64 {
	t.Helper()
	for len(b) >= 2 && b[1] < 0xfd {
		l := int(b[1])
		if 2+l > len(b) {
			break
		}
		if b[0] == typ {
			var v uint64
			for _, x := range b[2 : 2+l] {
				v = v<<8 | uint64(x)
			}
			return v
		}
		b = b[2+l:]
	}
	t.Fatalf("no element of type %#x", typ)
	return 0
}

// Every dataset pynfdc asks for (status, face, route, strategy) and the
// others NFD serves, sent as pynfdc sends them (signed: a
// ParametersSha256DigestComponent after the verb), are answered as NFD
// answers them.
func TestPynfdcDatasets(t *testing.T) {
	c := newPynfdcClient(t)

	// status: python-ndn reads the timestamps as milliseconds.
	in, data := c.request(pynfdcName(t, "status/general", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	content := data.Content().Join()
	gs, err := mgmt.ParseGeneralStatus(enc.NewBufferView(content), true)
	if err != nil || gs.NfdVersion == "" {
		t.Fatalf("status/general: %v %+v", err, gs)
	}
	nowMs := uint64(time.Now().UnixMilli())
	start, cur := tlvNat(t, content, 0x81), tlvNat(t, content, 0x82)
	if cur < start || cur > nowMs+1000 || nowMs-cur > 60_000 {
		t.Errorf("status/general: startTimestamp %d, currentTimestamp %d; now is %d ms", start, cur, nowMs)
	}

	// face: the list holds the face of this very connection.
	in, data = c.request(pynfdcName(t, "faces/list", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	faces, err := mgmt.ParseFaceStatusMsg(enc.NewWireView(data.Content()), true)
	if err != nil {
		t.Fatal(err)
	}
	unixFaces := map[uint64]bool{}
	for _, f := range faces.Vals {
		if f.LocalUri == "unix://"+testSock {
			unixFaces[f.FaceId] = true
		}
	}
	if len(unixFaces) == 0 {
		t.Fatalf("faces/list has no face on %s: %+v", testSock, faces.Vals)
	}

	// route: FIB and RIB.
	in, data = c.request(pynfdcName(t, "fib/list", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	fib, err := mgmt.ParseFibStatus(enc.NewWireView(data.Content()), true)
	if err != nil {
		t.Fatal(err)
	}
	mgmtFace := testFwd.mgmt.guard.Load().id
	found := false
	for _, e := range fib.Entries {
		found = found || (e.Name.Equal(mustName(t, "/localhost/nfd")) && len(e.NextHopRecords) == 1 && e.NextHopRecords[0].FaceId == mgmtFace)
	}
	if !found {
		t.Errorf("fib/list has no /localhost/nfd -> face %d", mgmtFace)
	}
	in, data = c.request(pynfdcName(t, "rib/list", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	if _, err := mgmt.ParseRibStatus(enc.NewWireView(data.Content()), true); err != nil {
		t.Fatal(err)
	}

	// strategy
	in, data = c.request(pynfdcName(t, "strategy-choice/list", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	sc, err := mgmt.ParseStrategyChoiceMsg(enc.NewWireView(data.Content()), true)
	if err != nil {
		t.Fatal(err)
	}
	found = false
	for _, e := range sc.StrategyChoices {
		found = found || (len(e.Name) == 0 && e.Strategy != nil && len(e.Strategy.Name) > 0)
	}
	if !found {
		t.Errorf("strategy-choice/list has no strategy for /: %+v", sc.StrategyChoices)
	}

	// Not asked for by pynfdc, but served by NFD.
	in, data = c.request(pynfdcName(t, "cs/info", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	if cs, err := mgmt.ParseCsInfoMsg(enc.NewWireView(data.Content()), true); err != nil || cs.CsInfo == nil {
		t.Errorf("cs/info: %v", err)
	}
	in, data = c.request(pynfdcName(t, "faces/channels", nil))
	wantDatasetSegment(t, interestName(t, in), data)
	if got, want := data.Content().Join(), tlv(0x82, tlv(0x81, []byte("unix://"+testSock))); !bytes.Equal(got, want) {
		t.Errorf("faces/channels: %x, want %x (the one listener, the unix socket)", got, want)
	}
}

// faces/query: NFD reads the filter from the name's last component, which
// in pynfdc's signed query is the params-sha256 digest: NFD answers 400
// "Malformed filter" as a ContentType Nack, and so does the node. The
// query as ndnd's nfdc and NFD's nfdc send it (unsigned, the filter last)
// gets the face.
func TestPynfdcFaceQueryAnswersAsNFD(t *testing.T) {
	c := newPynfdcClient(t)
	in, data := c.request(pynfdcName(t, "faces/query", faceIDFilter(1)))
	if !data.Name().Equal(interestName(t, in)) || data.ContentType().GetOr(0) != ndn.ContentTypeNack {
		t.Errorf("signed query answered with %s, type %v; want the Interest's name and Nack", data.Name(), data.ContentType())
	}
	cr, err := mgmt.ParseControlResponse(enc.NewWireView(data.Content()), true)
	if err != nil || cr.Val == nil || cr.Val.StatusCode != statusBadParams || cr.Val.StatusText != "Malformed filter" {
		t.Errorf("signed query: %v %+v, want 400 Malformed filter", err, cr)
	}

	e, af := newEngine(t)
	name := mustName(t, "/localhost/nfd/faces/query").Append(enc.NewGenericBytesComponent(faceIDFilter(af.FaceID())))
	content := fetchDataset(t, e, name)
	faces, err := mgmt.ParseFaceStatusMsg(enc.NewBufferView(content), true)
	if err != nil || len(faces.Vals) != 1 || faces.Vals[0].FaceId != af.FaceID() {
		t.Errorf("unsigned query for face %d: %v %+v", af.FaceID(), err, faces)
	}
}

// Commands pynfdc sends the same way (route add, face create) still work;
// faces/create answers as NFD does: a TCP face to a port where nothing
// listens is refused with 504, a UDP face is made (no connection to fail).
func TestPynfdcCommands(t *testing.T) {
	c := newPynfdcClient(t)
	cmd := func(request string, args *mgmt.ControlArgs) *mgmt.ControlResponseVal {
		t.Helper()
		_, data := c.request(pynfdcName(t, request, controlParams(args)))
		cr, err := mgmt.ParseControlResponse(enc.NewWireView(data.Content()), true)
		if err != nil || cr.Val == nil {
			t.Fatalf("%s: %v", request, err)
		}
		return cr.Val
	}
	prefix := mustName(t, fmt.Sprintf("/test/pynfdc/%d", rand.Uint64()))
	if r := cmd("rib/register", &mgmt.ControlArgs{Name: prefix}); r.StatusCode != statusOK {
		t.Fatalf("rib/register: %d %s", r.StatusCode, r.StatusText)
	}
	if hops := testFwd.NextHops(prefix); len(hops) != 1 {
		t.Errorf("next hops of %s: %v", prefix, hops)
	}

	setCreateHooks(t, testFwd.mgmtCreateFace, func(string) bool { return true })
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	r := cmd("faces/create", &mgmt.ControlArgs{Uri: optional.Some("tcp4://" + closed)})
	if r.StatusCode != statusFailed || r.StatusText != "Connection failed: Connection refused" {
		t.Errorf("tcp4 to a closed port: %d %q, want 504 %q", r.StatusCode, r.StatusText, "Connection failed: Connection refused")
	}
	r = cmd("faces/create", &mgmt.ControlArgs{Uri: optional.Some("udp4://" + closed)})
	if r.StatusCode != statusOK || !r.Params.FaceId.IsSet() {
		t.Fatalf("udp4 to a closed port: %d %q, want 200 with a FaceId", r.StatusCode, r.StatusText)
	}
	r = cmd("faces/destroy", &mgmt.ControlArgs{FaceId: r.Params.FaceId})
	if r.StatusCode != statusOK {
		t.Errorf("faces/destroy: %d %s", r.StatusCode, r.StatusText)
	}
}
