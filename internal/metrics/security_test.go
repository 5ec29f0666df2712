package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ndnsvs/ndnsvs-node/security"
)

type fakeTrust struct{ st security.Stats }

func (f fakeTrust) Stats() security.Stats { return f.st }

// Every reason is exported, zero or not, so that a dashboard's rate() has
// a series before the first refusal; every figure lands where docs/metrics.md
// says.
func TestSecurityCollector(t *testing.T) {
	r, _ := newTestRegistry(t, false)
	rej := map[security.Reason]uint64{}
	for i, reason := range security.Reasons {
		rej[reason] = uint64(i * 10)
	}
	if err := r.AddTrust(fakeTrust{security.Stats{
		Rejected: rej, Accepted: 7, Pending: 3, FetchesStarted: 5, FetchesSucceeded: 4, FetchesFailed: 1,
		FetchesRefused: 2, InFlight: 1, CachedCerts: 6, NegativeCached: 9,
	}}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(&securityCollector{fakeTrust{}}, "ndnsvs_security_rejected_total"); n != len(security.Reasons) {
		t.Errorf("%d rejection series with no rejection, want one per reason (%d)", n, len(security.Reasons))
	}
	want := `
# HELP ndnsvs_security_cert_fetches_total Certificate fetches, by result: started, succeeded (a certificate whose chain validated), failed, refused (over the rate or concurrency bound, not sent).
# TYPE ndnsvs_security_cert_fetches_total counter
ndnsvs_security_cert_fetches_total{result="failed"} 1
ndnsvs_security_cert_fetches_total{result="refused"} 2
ndnsvs_security_cert_fetches_total{result="started"} 5
ndnsvs_security_cert_fetches_total{result="succeeded"} 4
# HELP ndnsvs_security_certificates Certificates held, by kind: trusted (anchors, the node's chain and validated fetched ones) and refused (names negatively cached after a failure).
# TYPE ndnsvs_security_certificates gauge
ndnsvs_security_certificates{kind="refused"} 9
ndnsvs_security_certificates{kind="trusted"} 6
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		"ndnsvs_security_cert_fetches_total", "ndnsvs_security_certificates"); err != nil {
		t.Error(err)
	}
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "ndnsvs_security_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	for reason, v := range rej {
		if got[reason.String()] != float64(v) {
			t.Errorf("rejected_total{reason=%q} = %v, want %d", reason, got[reason.String()], v)
		}
	}
	if problems, err := testutil.GatherAndLint(r.Gatherer(), "ndnsvs_security_rejected_total", "ndnsvs_security_accepted_total"); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
