package ping_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/fw/fwtest"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

var (
	testFwd  *fw.Forwarder
	testSock string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ndnsvs-ping-test")
	if err != nil {
		panic(err)
	}
	testSock = filepath.Join(dir, "nfd.sock")
	cfg := fw.DefaultConfig()
	cfg.Unix = fw.UnixConfig{Enabled: true, Path: testSock, Mode: 0o600}
	testFwd = fwtest.MustStart(cfg)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code) // the forwarder ends with the process
}

// The raw producer and consumer exchange through in-process faces (frames
// from the forwarding thread) and through the unix socket (frames in
// NDNLPv2 from ndnd's stream face), one at a time and pipelined, and the
// engine-based ones through in-process faces.
func TestExchanges(t *testing.T) {
	for _, kind := range []string{"inproc", "unix"} {
		t.Run("raw "+kind, func(t *testing.T) {
			sock := testSock
			if kind == "inproc" {
				sock = ""
			}
			prefix := fwtest.Name("/ping-test/raw-" + kind)
			pf, err := fwtest.RawProducer(testFwd, sock, prefix, []byte("x"))
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			var cf ndn.Face = engine.NewUnixFace(testSock)
			if kind == "inproc" {
				cf = fwtest.BareFace(t, testFwd)
			}
			c, err := ping.NewRawConsumer(cf, prefix, "c")
			if err != nil {
				t.Fatal(err)
			}
			defer cf.Close()
			rtts, err := c.RoundTrips(20, 0)
			if err != nil || len(rtts) != 20 {
				t.Fatalf("round trips: %d, %v", len(rtts), err)
			}
			if _, err := c.Pipeline(500, 16); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("engine inproc", func(t *testing.T) {
		pf, cf := fwtest.BareFace(t, testFwd), fwtest.BareFace(t, testFwd)
		prod, cons := engine.NewBasicEngine(pf), engine.NewBasicEngine(cf)
		for _, e := range []ndn.Engine{prod, cons} {
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			defer e.Stop()
		}
		prefix := fwtest.Name("/ping-test/engine")
		if err := ping.Serve(prod, prefix, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := testFwd.AddRoute(prefix, pf.FaceID(), 0, fw.OriginApp); err != nil {
			t.Fatal(err)
		}
		c := ping.NewConsumer(cons, prefix, "c")
		if rtts, err := c.RoundTrips(20, 0); err != nil || len(rtts) != 20 {
			t.Fatalf("round trips: %d, %v", len(rtts), err)
		}
		if _, err := c.Pipeline(500, 16); err != nil {
			t.Fatal(err)
		}
		if s := ping.Summarize([]time.Duration{3, 1, 2}); s.Median != 2 || s.Min != 1 || s.Max != 3 || s.N != 3 {
			t.Errorf("Summarize: %+v", s)
		}
	})
}
