package fw

import (
	"fmt"
	"testing"

	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

// benchPair starts a producer and a consumer, each on its own face of the
// given kind, and routes a fresh prefix to the producer.
func benchPair(b *testing.B, kind string) *ping.Consumer {
	b.Helper()
	prefix := mustName(b, fmt.Sprintf("/bench/%s/%d", kind, b.N))
	var prod, cons ndn.Engine
	switch kind {
	case "inproc":
		var pf *Face
		prod, pf = newEngine(b)
		if err := testFwd.AddRoute(prefix, pf.FaceID(), 0, OriginApp); err != nil {
			b.Fatal(err)
		}
		cons, _ = newEngine(b)
	case "unix":
		prod = newUnixEngine(b)
		if err := prod.RegisterRoute(prefix); err != nil {
			b.Fatal(err)
		}
		cons = newUnixEngine(b)
	}
	if err := ping.Serve(prod, prefix, make([]byte, 100)); err != nil {
		b.Fatal(err)
	}
	c := ping.NewConsumer(cons, prefix, "c")
	if _, err := c.RoundTrips(200, 0); err != nil { // warm-up
		b.Fatal(err)
	}
	return c
}

// BenchmarkRoundTrip: one Interest/Data exchange at a time; ns/op is the
// round trip.
func BenchmarkRoundTrip(b *testing.B) {
	for _, kind := range []string{"inproc", "unix"} {
		b.Run(kind, func(b *testing.B) {
			c := benchPair(b, kind)
			b.ReportAllocs()
			b.ResetTimer()
			rtts, err := c.RoundTrips(b.N, 0)
			if err != nil {
				b.Fatal(err)
			}
			s := ping.Summarize(rtts)
			b.ReportMetric(float64(s.Median.Nanoseconds()), "median-ns")
			b.ReportMetric(float64(s.P99.Nanoseconds()), "p99-ns")
		})
	}
}

// BenchmarkThroughput: exchanges with 32 outstanding; see exch/s.
func BenchmarkThroughput(b *testing.B) {
	for _, kind := range []string{"inproc", "unix"} {
		b.Run(kind, func(b *testing.B) {
			c := benchPair(b, kind)
			b.ReportAllocs()
			b.ResetTimer()
			d, err := c.Pipeline(b.N, 32)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/d.Seconds(), "exch/s")
		})
	}
}
