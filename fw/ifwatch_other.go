//go:build !linux

package fw

import "log/slog"

// watchLinks has no kernel events to offer here: the interfaces are
// polled (ifPollEvery).
func watchLinks(kick chan<- struct{}, log *slog.Logger) (stop func()) {
	log.Info("multicast: interfaces are polled", "every", ifPollEvery)
	return func() {}
}
