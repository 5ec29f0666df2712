package fw

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/dispatch"
	"github.com/named-data/ndnd/fw/face"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// fetchDataset fetches a status dataset, every segment, as ndnd's nfdc
// does (tools/nfdc/nfdc_dataset.go: ConsumeExt without metadata).
func fetchDataset(t *testing.T, e ndn.Engine, name enc.Name) []byte {
	t.Helper()
	client := object.NewClient(e, nil, nil)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	defer client.Stop()
	ch := make(chan ndn.ConsumeState, 1)
	client.ConsumeExt(ndn.ConsumeExtArgs{
		Name:       name,
		NoMetadata: true,
		Callback:   func(s ndn.ConsumeState) { ch <- s },
	})
	select {
	case s := <-ch:
		if err := s.Error(); err != nil {
			t.Fatalf("fetch %s: %v", name, err)
		}
		return s.Content().Join()
	case <-time.After(10 * time.Second):
		t.Fatalf("fetch %s: no answer", name)
	}
	return nil
}

// ndndCLI builds ndnd's own command (the module's `tool` directive) once per
// test, into the test's directory.
func ndndCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ndnd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/named-data/ndnd/cmd/ndnd").CombinedOutput(); err != nil {
		t.Fatalf("go build ndnd: %v\n%s", err, out)
	}
	return bin
}

// runNfdc runs `ndnd fw <args>` (ndnd v1.5.3's nfdc) against the test
// forwarder's socket, found as ndnd's clients find it: NDN_CLIENT_TRANSPORT
// (std/engine/client_conf.go), with a HOME that has no client.conf.
func runNfdc(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"fw"}, args...)...)
	cmd.Env = append(os.Environ(), "NDN_CLIENT_TRANSPORT=unix://"+testSock, "HOME="+t.TempDir())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("ndnd fw %v: still running after 30 s\n%s%s", args, o.String(), e.String())
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// ndnd's own nfdc (`ndnd fw ...`), run as a user runs it, gets every
// dataset and command answer it gets from NFD: the status, the face list
// (two segments here: the test adds faces until the list passes one
// segment), routes, FIB, strategies, CS; face-destroy by URI (a faces/query
// first); face-create to a TCP port where nothing listens fails with 504.
func TestNfdcCLI(t *testing.T) {
	bin := ndndCLI(t)

	out, errOut, code := runNfdc(t, bin, "status")
	if code != 0 || !strings.Contains(out, "General NFD status:") || !strings.Contains(out, "nFibEntries") {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}
	// nfdc prints the start time it decodes from milliseconds.
	if m := regexp.MustCompile(`startTime=(\d{4})-`).FindStringSubmatch(out); m == nil || m[1] != time.Now().Format("2006") {
		t.Errorf("status: start time not this year:\n%s", out)
	}

	// Enough faces for faces/list to need a second segment.
	var ids []uint64
	for i := 0; len(ids) < 2 || len(faceStatuses(func(face.LinkService) bool { return true })) <= datasetSegmentSize; i++ {
		ids = append(ids, addForeignFace(t, defn.MakeUDPFaceURI(4, fmt.Sprintf("192.0.2.%d", i%250+1), uint16(10000+i))).FaceID())
	}
	out, errOut, code = runNfdc(t, bin, "face-list")
	if code != 0 || !strings.Contains(out, "local=unix://"+testSock) {
		t.Errorf("face-list: exit %d\n%s", code, errOut)
	}
	for _, id := range ids {
		if !strings.Contains(out, fmt.Sprintf("faceid=%d ", id)) {
			t.Errorf("face-list: face %d (of %d added) missing", id, len(ids))
			break
		}
	}

	for _, tc := range []struct{ cmd, want string }{
		{"fib-list", "/localhost/nfd nexthops={"},
		{"route-list", ""},
		{"strategy-list", "prefix=/ strategy=/localhost/nfd/strategy/"},
		{"cs-info", "capacity"},
	} {
		out, errOut, code := runNfdc(t, bin, tc.cmd)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want %q in\n%s%s", tc.cmd, code, tc.want, out, errOut)
		}
	}

	setCreateHooks(t, testFwd.mgmtCreateFace, func(string) bool { return true })
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	out, errOut, code = runNfdc(t, bin, "face-create", "remote=tcp4://"+closed)
	if code == 0 || !strings.Contains(out+errOut, "504") || !strings.Contains(out+errOut, "Connection failed: Connection refused") {
		t.Errorf("face-create to a closed TCP port: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runNfdc(t, bin, "face-create", "remote=udp4://"+closed)
	if code != 0 {
		t.Fatalf("face-create udp4: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runNfdc(t, bin, "face-destroy", "face=udp4://"+closed)
	if code != 0 {
		t.Errorf("face-destroy by URI: exit %d\n%s%s", code, out, errOut)
	}
	if ls := faceByRemote("udp4://" + closed); ls != nil {
		t.Errorf("face %d still there after face-destroy", ls.FaceID())
	}
}

// faceByRemote returns the face with the remote URI, or nil.
func faceByRemote(uri string) face.LinkService {
	for _, ls := range face.FaceTable.GetAll() {
		if ls.RemoteURI().String() == uri {
			return ls
		}
	}
	return nil
}

// The dataset store answers as ndn-cxx's InMemoryStorage does for NFD's
// dispatcher: exact name, or any name under it with CanBePrefix, the
// smallest first; MustBeFresh passes over segments past their freshness;
// the oldest segments go first when full.
func TestMgmtDatasetStore(t *testing.T) {
	t0 := time.Unix(1764396000, 0)
	var s datasetStore
	v1 := mustName(t, "/localhost/nfd/faces/list/v=1")
	v2 := mustName(t, "/localhost/nfd/faces/list/v=2")
	s.add(storedSegment{name: v2.Append(enc.NewSegmentComponent(0)), frame: []byte("v2s0"), staleAt: t0.Add(2 * time.Second)})
	s.add(storedSegment{name: v1.Append(enc.NewSegmentComponent(1)), frame: []byte("v1s1"), staleAt: t0.Add(time.Second)})
	s.add(storedSegment{name: v1.Append(enc.NewSegmentComponent(0)), frame: []byte("v1s0"), staleAt: t0.Add(time.Second)})
	for _, tc := range []struct {
		name          string
		prefix, fresh bool
		now           time.Duration
		want          string
	}{
		{"/localhost/nfd/faces/list", true, true, 0, "v1s0"},
		{"/localhost/nfd/faces/list", false, false, 0, ""},
		{"/localhost/nfd/faces/list", true, true, time.Second, "v2s0"},
		{"/localhost/nfd/faces/list", true, true, 2 * time.Second, ""},
		{"/localhost/nfd/faces/list", true, false, time.Hour, "v1s0"},
		{"/localhost/nfd/faces/list/v=1/seg=1", false, true, 0, "v1s1"},
		{"/localhost/nfd/faces/list/v=1/seg=1", false, true, time.Second, ""},
		{"/localhost/nfd/faces/list/v=1/seg=2", false, false, 0, ""},
		{"/localhost/nfd/faces/list/v=2", true, true, 0, "v2s0"},
		{"/localhost/nfd/fib/list", true, false, 0, ""},
	} {
		in := &defn.FwInterest{NameV: mustName(t, tc.name), CanBePrefixV: tc.prefix, MustBeFreshV: tc.fresh}
		if got := string(s.find(in, t0.Add(tc.now))); got != tc.want {
			t.Errorf("%s prefix=%v fresh=%v at +%s: %q, want %q", tc.name, tc.prefix, tc.fresh, tc.now, got, tc.want)
		}
	}

	for i := range datasetStoreSize {
		s.add(storedSegment{name: mustName(t, fmt.Sprintf("/x/seg=%d", i))})
	}
	if len(s.segs) != datasetStoreSize || !s.segs[0].name.Equal(mustName(t, "/x/seg=0")) {
		t.Errorf("after filling: %d segments, first %s", len(s.segs), s.segs[0].name)
	}

	// Versions follow the clock in milliseconds, and never repeat.
	a, b := s.version(t0), s.version(t0)
	if a != uint64(t0.UnixMilli()) || b != a+1 || s.version(t0.Add(-time.Hour)) != a+2 {
		t.Errorf("versions %d %d", a, b)
	}
}

// datasetInterest is a dataset request as a forwarding thread hands it to
// the management face.
func datasetInterest(t *testing.T, name enc.Name, prefix, fresh bool) dispatch.OutPkt {
	t.Helper()
	in, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
		CanBePrefix: prefix, MustBeFresh: fresh, Nonce: optional.Some(uint32(1)),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l3, err := defn.ParseFwPacket(enc.NewWireView(in.Wire), false)
	if err != nil {
		t.Fatal(err)
	}
	return dispatch.OutPkt{Pkt: &defn.Pkt{Raw: in.Wire, L3: l3, Name: l3.Interest.NameV}}
}

// A guard's dataset handling, apart from the forwarder's: a request makes
// a new version, segmented at datasetSegmentSize, every segment with the
// FinalBlockId (see mgmt_dataset.go); a repeat within the freshness period is answered from
// the store; a versioned or segmented name not stored is dropped; after
// the freshness period, MustBeFresh makes a new version.
func TestMgmtDatasetSegmentsAndVersions(t *testing.T) {
	g := &mgmtGuard{fwd: testFwd, id: testFwd.mgmt.guard.Load().id, signer: signer.NewSha256Signer()}
	// Enough faces for two segments.
	for i := 0; len(faceStatuses(func(face.LinkService) bool { return true })) <= datasetSegmentSize; i++ {
		addForeignFace(t, defn.MakeUDPFaceURI(4, "192.0.2.200", uint16(20000+i)))
	}
	t0 := time.Now()
	list := mustName(t, "/localhost/nfd/faces/list")
	g.dataset(datasetInterest(t, list, true, true), t0)
	if len(g.store.segs) != 2 {
		t.Fatalf("%d segments stored, want 2", len(g.store.segs))
	}
	var whole []byte
	for i, seg := range g.store.segs {
		pkt, _, err := spec.ReadPacket(enc.NewBufferView(seg.frame))
		if err != nil || pkt.Data == nil {
			t.Fatal(err)
		}
		d := pkt.Data
		if want := list.Append(enc.NewVersionComponent(g.store.lastVersion), enc.NewSegmentComponent(uint64(i))); !d.Name().Equal(want) {
			t.Errorf("segment %d named %s, want %s", i, d.Name(), want)
		}
		if fb, ok := d.FinalBlockID().Get(); !ok || !fb.Equal(enc.NewSegmentComponent(1)) {
			t.Errorf("segment %d: FinalBlockId %v (set %v), want seg=1", i, fb, ok)
		}
		whole = append(whole, d.Content().Join()...)
	}
	if len(g.store.segs[0].frame) > 8800 {
		t.Errorf("first segment is %d bytes", len(g.store.segs[0].frame))
	}
	if fs, err := mgmt.ParseFaceStatusMsg(enc.NewBufferView(whole), true); err != nil || len(fs.Vals) < 2 {
		t.Errorf("the segments joined: %v, %d faces", err, len(fs.Vals))
	}

	v := g.store.lastVersion
	g.dataset(datasetInterest(t, list.Append(enc.NewVersionComponent(v)), true, true), t0.Add(datasetFreshness/2))
	g.dataset(datasetInterest(t, list.Append(enc.NewVersionComponent(v+100)), true, false), t0)
	g.dataset(datasetInterest(t, list.Append(enc.NewVersionComponent(v), enc.NewSegmentComponent(7)), false, false), t0)
	if len(g.store.segs) != 2 || g.store.lastVersion != v {
		t.Errorf("a stored version or unknown segments made a new version (%d segments stored)", len(g.store.segs))
	}
	// Unlike NFD, a request without a version always gets a new one, so
	// that it shows what changed within the last second.
	g.dataset(datasetInterest(t, list, true, true), t0.Add(datasetFreshness/2))
	if len(g.store.segs) != 4 || g.store.lastVersion == v {
		t.Errorf("a repeated request: %d segments stored, version %d (was %d)", len(g.store.segs), g.store.lastVersion, v)
	}
}

// A version's segments are served from the store, with CanBePrefix and
// MustBeFresh as NFD's dispatcher honours them; a face made since the last
// listing is in the next one (see mgmt_dataset.go: NFD may answer with a
// listing up to a second old).
func TestMgmtDatasetVersionFromStore(t *testing.T) {
	c := newPynfdcClient(t)
	plain := func(name enc.Name, prefix, fresh bool) ndn.Data {
		t.Helper()
		in, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
			CanBePrefix: prefix, MustBeFresh: fresh, Nonce: optional.Some(rand.Uint32()),
			Lifetime: optional.Some(4 * time.Second),
		}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.send(in.Wire.Join(), name)
	}
	list := mustName(t, "/localhost/nfd/faces/list")
	first := plain(list, true, true)
	version := first.Name().Prefix(-1)
	if !version.At(-1).IsVersion() {
		t.Fatalf("answered with %s", first.Name())
	}
	again := plain(version, true, true)
	if !again.Name().Equal(first.Name()) || !bytes.Equal(again.Content().Join(), first.Content().Join()) {
		t.Errorf("%s (CanBePrefix) answered with %s, want the stored %s", version, again.Name(), first.Name())
	}
	seg0 := plain(first.Name(), false, false)
	if !seg0.Name().Equal(first.Name()) {
		t.Errorf("segment 0 by its name: %s", seg0.Name())
	}

	ff := addForeignFace(t, defn.MakeUDPFaceURI(4, "192.0.2.77", 6363))
	next := plain(list, true, true)
	if next.Name().Equal(first.Name()) {
		t.Fatalf("a second listing is the stored version %s", first.Name())
	}
	faces, err := mgmt.ParseFaceStatusMsg(enc.NewWireView(next.Content()), true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(faces.Vals, func(f *mgmt.FaceStatus) bool { return f.FaceId == ff.FaceID() }) {
		t.Errorf("face %d, made after the first listing, is not in the second", ff.FaceID())
	}
}

// faces/channels lists every listener with the address it is bound to
// (NFD's channel URIs), and no socket that only serves faces.
func TestMgmtChannelURIs(t *testing.T) {
	dir := t.TempDir()
	uln, err := net.Listen("unix", filepath.Join(dir, "x.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	tln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tln.Close()
	tcpPort := tln.Addr().(*net.TCPAddr).Port
	f := &Forwarder{}
	f.cfg.WebSocket.TLSCert = ""
	f.listeners = append(f.listeners,
		&streamListener{ln: uln},
		&streamListener{ln: &limitListener{Listener: tln}},
		&udpSocket{local: addrURI("udp", testAddrPort("127.0.0.1:6363")), onDemand: true},
		&udpSocket{local: addrURI("udp", testAddrPort("[::1]:6363")), onDemand: true},
		&udpSocket{local: addrURI("udp", testAddrPort("127.0.0.1:40000")), onDemand: false},
		&wsListener{addr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:9696"))},
	)
	want := []string{
		"unix://" + filepath.Join(dir, "x.sock"),
		fmt.Sprintf("tcp4://127.0.0.1:%d", tcpPort),
		"udp4://127.0.0.1:6363",
		"udp6://[::1]:6363",
		"ws://127.0.0.1:9696",
	}
	if got := f.channelURIs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("channels\n got %v\nwant %v", got, want)
	}
}

// NFD's status texts for a face that cannot be made (tcp-channel.cpp's for
// a TCP connect, the factories' "Face creation failed" otherwise).
func TestMgmtCreateFailure(t *testing.T) {
	dialErr := func(err error) error {
		return fmt.Errorf("fw: neighbour: %w", &net.OpError{Op: "dial", Net: "tcp4", Err: err})
	}
	for _, tc := range []struct {
		scheme string
		err    error
		want   string
	}{
		{"tcp4", dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "Connection failed: Connection refused"},
		{"tcp6", dialErr(os.NewSyscallError("connect", syscall.ENETUNREACH)), "Connection failed: Network is unreachable"},
		{"tcp4", dialErr(timeoutError{}), "Connection timed out"},
		{"tcp4", errors.New("fw: other"), "Connection failed: fw: other"},
		{"udp4", errors.New("fw: no socket"), "Face creation failed: fw: no socket"},
	} {
		if got := createFailure(tc.scheme, tc.err); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.scheme, tc.err, got, tc.want)
		}
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// While faces/create waits for a connection, the guard still answers
// datasets and its other commands: creation has a goroutine of its own.
func TestMgmtFaceCreateDoesNotHoldUpDatasets(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	setCreateHooks(t, func(string, mgmt.Persistency) (uint64, error) {
		close(entered)
		<-release
		return 0, fmt.Errorf("fw: neighbour: %w", &net.OpError{Op: "dial", Err: timeoutError{}})
	}, func(string) bool { return true })
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // a failed test leaves no guard goroutine waiting
	e, _ := newEngine(t)
	created := make(chan *mgmt.ControlResponseVal, 1)
	go func() {
		res, _ := e.ExecMgmtCmd("faces", "create", &mgmt.ControlArgs{Uri: optional.Some("tcp4://192.0.2.1:6363")})
		cr, _ := res.(*mgmt.ControlResponse)
		if cr == nil {
			created <- nil
			return
		}
		created <- cr.Val
	}()
	<-entered
	status := fetchDataset(t, e, mustName(t, "/localhost/nfd/status/general"))
	if _, err := mgmt.ParseGeneralStatus(enc.NewBufferView(status), true); err != nil {
		t.Errorf("status/general during faces/create: %v", err)
	}
	code, val := mgmtCmd(t, e, "strategy-choice", "set", strategyArgs(t, "/test/mgmt/during-create", "multicast"))
	wantStatus(t, "strategy-choice/set during faces/create", code, val, statusOK)
	unblock()
	if r := <-created; r == nil || r.StatusCode != statusFailed || r.StatusText != "Connection timed out" {
		t.Errorf("faces/create: %+v, want 504 Connection timed out", r)
	}
}
