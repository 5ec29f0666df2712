package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ndnsvs/ndnsvs-node/security"
)

// subsystemSecurity: the node's signing and validation ([security]).
const subsystemSecurity = "security"

// Trust is what the security collector reads: *security.Trust. Stats must
// be safe to call from any goroutine.
type Trust interface {
	Stats() security.Stats
}

// Descriptions of the security subsystem, read from security.Stats at
// scrape time. They exist only on a node with [security].
var (
	secRejected = desc(subsystemSecurity, "rejected_total",
		"Packets (State Vector Data, fetched publications) the validator refused, by reason (the labels are security.Reasons: unsigned, signature_type, no_key_locator, cross_schema, schema, bad_signature, expired, unknown_key, fetch_limited, bad_certificate, chain_too_long). A refused packet never changes the state vector or reaches the application.", "reason")
	secAccepted = desc(subsystemSecurity, "accepted_total",
		"Packets the validator accepted.")
	secPending = desc(subsystemSecurity, "pending_total",
		"Validations that had to wait for a certificate fetch; the packet is held and checked again when it ends.")
	secFetches = desc(subsystemSecurity, "cert_fetches_total",
		"Certificate fetches, by result: started, succeeded (a certificate whose chain validated), failed, refused (over the rate or concurrency bound, not sent).", "result")
	secInFlight = desc(subsystemSecurity, "cert_fetches_in_flight",
		"Certificate fetches under way now.")
	secCerts = desc(subsystemSecurity, "certificates",
		"Certificates held, by kind: trusted (anchors, the node's chain and validated fetched ones) and refused (names negatively cached after a failure).", "kind")
)

type securityCollector struct{ t Trust }

func (c *securityCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{secRejected, secAccepted, secPending, secFetches, secInFlight, secCerts} {
		ch <- d
	}
}

func (c *securityCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.t.Stats()
	for _, r := range security.Reasons {
		counter(ch, secRejected, st.Rejected[r], r.String())
	}
	counter(ch, secAccepted, st.Accepted)
	counter(ch, secPending, st.Pending)
	counter(ch, secFetches, st.FetchesStarted, "started")
	counter(ch, secFetches, st.FetchesSucceeded, "succeeded")
	counter(ch, secFetches, st.FetchesFailed, "failed")
	counter(ch, secFetches, st.FetchesRefused, "refused")
	gauge(ch, secInFlight, float64(st.InFlight))
	gauge(ch, secCerts, float64(st.CachedCerts), "trusted")
	gauge(ch, secCerts, float64(st.NegativeCached), "refused")
}

// AddTrust exports the node's signing and validation counters. Call it
// once, for a node with [security].
func (r *Registry) AddTrust(t Trust) error {
	if err := r.reg.Register(&securityCollector{t: t}); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
