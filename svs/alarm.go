package svs

import "time"

// alarm is one timer for Run's deadlines: the engine's (Sync.armed), the
// re-announcements' (confirmer), the fetch worker's (fetchWorker.armed)
// and the fetch scheduler's (dataLayer.farmed). Each timer channel in
// Run's select, stopped or not, was parked on and unparked at every turn
// of the loop, for every Sync Interest and every segment; one channel for
// the four costs that once.
//
// Each source keeps its own deadline and asks the alarm for it (want);
// when the alarm fires, Run runs every source whose deadline has come
// (Sync.onAlarm) and asks again for those still ahead. Used on Run only.
type alarm struct {
	t  *time.Timer
	at time.Time // when t fires; zero when stopped or fired
}

func newAlarm() *alarm {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &alarm{t: t}
}

// want makes the alarm fire at at, or earlier if it is set to.
func (a *alarm) want(at time.Time) {
	if !a.at.IsZero() && !at.Before(a.at) {
		return
	}
	a.at = at
	a.t.Reset(max(time.Until(at), 0))
}

// c is the alarm's channel; Run calls fired after receiving from it.
func (a *alarm) c() <-chan time.Time { return a.t.C }

func (a *alarm) fired() { a.at = time.Time{} }

func (a *alarm) stop() {
	a.t.Stop()
	a.at = time.Time{}
}

// onAlarm runs on Run when the alarm fired: every source whose deadline
// has come, then the alarm again for the deadlines still ahead.
func (s *Sync) onAlarm() {
	s.alarm.fired()
	now := time.Now()
	due := func(at time.Time) bool { return !at.IsZero() && !at.After(now) }
	if s.armed >= 0 && due(s.origin.Add(s.armed)) {
		s.armed = -1
		why := s.tickReason()
		s.handle(s.eng.Tick(s.now()), nil, result{}, why)
	}
	if due(s.confirm.at) && s.confirm.fired(now) && s.eng.OwnDoubted() {
		s.handle(s.eng.Announce(s.now()), nil, result{}, SentAnnounce)
	}
	if d := s.data; d != nil {
		if due(d.worker.armed) {
			d.worker.fire()
			s.onDataEvents()
		}
		if d.farmed >= 0 && due(s.origin.Add(d.farmed)) {
			s.onFetchTimer()
		}
	}
	s.rearmAlarm()
}

// rearmAlarm asks the alarm for every deadline still set.
func (s *Sync) rearmAlarm() {
	if s.armed >= 0 {
		s.alarm.want(s.origin.Add(s.armed))
	}
	if !s.confirm.at.IsZero() {
		s.alarm.want(s.confirm.at)
	}
	if d := s.data; d != nil {
		if !d.worker.armed.IsZero() {
			s.alarm.want(d.worker.armed)
		}
		if d.farmed >= 0 {
			s.alarm.want(s.origin.Add(d.farmed))
		}
	}
}

// startConfirm arms the re-announcements after an announcement.
func (s *Sync) startConfirm() {
	s.confirm.start(time.Now())
	if !s.confirm.at.IsZero() {
		s.alarm.want(s.confirm.at)
	}
}
