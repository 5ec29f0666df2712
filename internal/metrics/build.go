package metrics

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// newBuildInfo returns the ndnsvs_build_info gauge, always 1, whose labels
// say what is running: the main module's version ("(devel)" for a build
// from a work tree), the VCS revision the go command stamped (empty if
// none: go run, or a tree outside git), and the Go version.
func newBuildInfo() prometheus.Collector {
	version, revision := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "build_info",
		Help:        "Always 1; its labels are the ndnsvs-node version, the VCS revision it was built from and the Go version.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
