package fw

import (
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/named-data/ndnd/fw/defn"
	"github.com/named-data/ndnd/fw/face"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

// The transport benchmarks compare the forwarder's own unix listener (the
// test forwarder's, at testSock) with ndnd v1.5.3's own
// (face.MakeUnixStreamListener) opened beside it on the same forwarder: a
// raw producer on an in-process face, a raw consumer on ndnd std's unix
// stream face, so the forwarder-side face is the only difference. UDP is
// compared by `ndnsvs-bench transport`, which configures its own forwarder
// (the test forwarder has no UDP listener), and which alternates the rows
// and keeps the consumer's CPU out of the figure; here the consumer is in
// the process and the sub-benchmarks run one after the other, so compare
// with -count and benchstat:
//
//	go test -run '^$' -bench Transport -count 6 ./fw | benchstat -col /face -

// ndndUnixListener opens ndnd's own unix listener at a new socket path and
// returns the path; it is closed when tb ends. (fwtest.NdndUnixListener
// does the same for other packages; this package's tests cannot import
// fwtest, which imports it.)
func ndndUnixListener(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "ndnd.sock")
	l, err := face.MakeUnixStreamListener(defn.MakeUnixFaceURI(path))
	if err != nil {
		tb.Fatal(err)
	}
	go l.Run()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if c, err := net.Dial("unix", path); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("ndnd's unix listener not accepting after 5s")
		}
	}
	tb.Cleanup(l.Close)
	return path
}

// transportPair starts a raw producer on an in-process face and a raw
// consumer connected to the unix socket of the given kind ("ours" or
// "ndnd"), warmed up; both are closed when tb ends.
func transportPair(tb testing.TB, kind string, warmup int) *ping.RawConsumer {
	tb.Helper()
	sock := testSock
	if kind == "ndnd" {
		sock = ndndUnixListener(tb)
	}
	prefix := mustName(tb, fmt.Sprintf("/bench/transport/%s/%d", kind, time.Now().UnixNano()))
	pf, err := testFwd.NewFace()
	if err != nil {
		tb.Fatal(err)
	}
	if err := ping.RawServe(pf, make([]byte, 100)); err != nil {
		tb.Fatal(err)
	}
	if err := testFwd.AddRoute(prefix, pf.FaceID(), 0, OriginApp); err != nil {
		tb.Fatal(err)
	}
	var cf ndn.Face = engine.NewUnixFace(sock)
	c, err := ping.NewRawConsumer(cf, prefix, "c")
	if err != nil {
		tb.Fatal(err)
	}
	// Cleanups run last-in first-out: the consumer's stream face closes
	// before ndnd's listener and before the forwarder (a stream face whose
	// forwarder goes away first exits the process, in ndnd's std).
	tb.Cleanup(func() {
		_ = cf.Close()
		_ = pf.Close()
	})
	if _, err := c.RoundTrips(warmup, 0); err != nil {
		tb.Fatal(err)
	}
	return c
}

// cpuNow is the process's user+system CPU time so far.
func cpuNow(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTransportRoundTrip: one exchange at a time through the unix
// socket; ns/op is the round trip, cpu-ns/pkt the process's CPU per packet
// (two per exchange: the Interest and the Data on the face under test).
func BenchmarkTransportRoundTrip(b *testing.B) {
	for _, kind := range []string{"ours", "ndnd"} {
		b.Run("face="+kind, func(b *testing.B) {
			c := transportPair(b, kind, 200)
			b.ReportAllocs()
			c0 := cpuNow(b)
			b.ResetTimer()
			rtts, err := c.RoundTrips(b.N, 0)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			s := ping.Summarize(rtts)
			b.ReportMetric(float64(s.Median.Nanoseconds()), "median-ns")
			b.ReportMetric(float64(s.P99.Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(cpuNow(b)-c0)/float64(2*b.N), "cpu-ns/pkt")
		})
	}
}

// BenchmarkTransportThroughput: exchanges with 64 outstanding through the
// unix socket; see exch/s and cpu-ns/pkt.
func BenchmarkTransportThroughput(b *testing.B) {
	for _, kind := range []string{"ours", "ndnd"} {
		b.Run("face="+kind, func(b *testing.B) {
			c := transportPair(b, kind, 200)
			b.ReportAllocs()
			c0 := cpuNow(b)
			b.ResetTimer()
			d, err := c.Pipeline(b.N, 64)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/d.Seconds(), "exch/s")
			b.ReportMetric(float64(cpuNow(b)-c0)/float64(2*b.N), "cpu-ns/pkt")
		})
	}
}

// The transport benchmarks' set-up at a tiny size, so that they cannot rot
// unnoticed: both kinds of unix face carry sequential and pipelined
// exchanges.
func TestTransportBenchSmoke(t *testing.T) {
	for _, kind := range []string{"ours", "ndnd"} {
		t.Run(kind, func(t *testing.T) {
			c := transportPair(t, kind, 5)
			if rtts, err := c.RoundTrips(20, 0); err != nil || len(rtts) != 20 {
				t.Fatalf("round trips: %d, %v", len(rtts), err)
			}
			if _, err := c.Pipeline(500, 64); err != nil {
				t.Fatal(err)
			}
		})
	}
}
