package svstest

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
)

// RunFetchScript runs a fetch scenario script and writes its trace to w:
// each command echoed after "> ", then the fetch events it caused (the
// sync group's own events are not traced). Comments (#) are echoed, blank
// lines kept. The language, one command a line:
//
//	seed N                       seed the run (first)
//	delay D [jitter J]           one-way delay and jitter of both networks
//	window W | cap C | attempts N | timeout D | giveupafter D |
//	backoff BASE MAX | stall N | backlog N
//	                             the fetch configuration of members added
//	                             later (core.FetchConfig)
//	members N | members a b …    add members silently (N names them a, b, …)
//	join NAME                    add a member that announces itself
//	publish NAME [COUNT]         publish COUNT times (default 1)
//	restart NAME [newboot] [wipe]
//	                             restart a member's sync engine; its store
//	                             (what it serves) and its fetcher go on
//	answer NAME data|mute|nack|invalid
//	                             how NAME answers fetches of its publications
//	announce NODE BOOT SEQ       a peer outside the group announces
//	                             NODE@BOOT=SEQ and never answers a fetch
//	loss P                       loss of every fetch packet (0.2 or 20%)
//	syncloss P                   loss of every Sync Interest delivery
//	advance D                    run for D
//	settle [LIMIT]               run until everything learned is fetched or
//	                             given up and the group converged (default 10m)
//	stats                        every member's fetch counters
//	check delivered              every number learned reached the application
//	check gaveup NAME NODE N [REPORTS]
//	                             NAME gave up N numbers of NODE (in REPORTS reports)
//	check window                 no producer had more than W in progress, no
//	                             member more than C on the network
//	check bounded N              no member ever held more than N ranges or
//	                             N numbers in progress, whatever was announced
//
// A command that cannot run stops the script with an error naming the
// line; failed checks print FAIL and make RunFetchScript return an error
// wrapping ErrCheckFailed after the whole script has run. An invariant
// violation (FetchSim.Err) stops it at once.
func RunFetchScript(r io.Reader, w io.Writer) error {
	rn := &fetchRunner{w: w, fc: core.DefaultFetchConfig()}
	rn.reset(0)
	sc := bufio.NewScanner(r)
	var failed []string
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "":
			fmt.Fprintln(w)
			continue
		case strings.HasPrefix(text, "#"):
			fmt.Fprintln(w, text)
			continue
		}
		fmt.Fprintf(w, "> %s\n", text)
		ok, err := rn.exec(strings.Fields(text))
		if err != nil {
			return fmt.Errorf("line %d: %q: %w", line, text, err)
		}
		if !ok {
			failed = append(failed, strconv.Itoa(line))
		}
		if err := rn.sim.Err(); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w on line %s", ErrCheckFailed, strings.Join(failed, ", "))
	}
	return nil
}

type fetchRunner struct {
	w       io.Writer
	sim     *FetchSim
	fc      core.FetchConfig
	started bool
}

func (rn *fetchRunner) reset(seed uint64) {
	rn.sim = NewFetchSim(FetchSimConfig{
		Seed:  seed,
		Trace: rn.w,
		// The configuration in force when the member is added.
		Fetch: func(string) core.FetchConfig { return rn.fc },
	})
}

// exec runs one command; ok is false when a check failed.
func (rn *fetchRunner) exec(f []string) (ok bool, err error) {
	s := rn.sim
	args := f[1:]
	switch f[0] {
	case "seed":
		if len(args) != 1 {
			return false, errUsage("seed N")
		}
		if rn.started {
			return false, fmt.Errorf("%w: seed must come first", ErrBadArgument)
		}
		n, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return false, err
		}
		rn.reset(n)
	case "delay":
		if len(args) != 1 && !(len(args) == 3 && args[1] == "jitter") {
			return false, errUsage("delay D [jitter J]")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil {
			return false, err
		}
		j := time.Duration(0)
		if len(args) == 3 {
			if j, err = time.ParseDuration(args[2]); err != nil {
				return false, err
			}
		}
		s.SetDelay(d, j)
	case "window", "cap", "attempts", "stall", "backlog":
		if len(args) != 1 {
			return false, errUsage(f[0] + " N")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return false, fmt.Errorf("%w: %s %q", ErrBadArgument, f[0], args[0])
		}
		switch f[0] {
		case "window":
			rn.fc.Window = n
		case "cap":
			rn.fc.MaxOutstanding = n
		case "attempts":
			rn.fc.MaxAttempts = n
		case "stall":
			rn.fc.StallAfter = n
		case "backlog":
			rn.fc.SupersededBacklog = uint64(n)
		}
	case "timeout", "giveupafter":
		if len(args) != 1 {
			return false, errUsage(f[0] + " D")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil {
			return false, err
		}
		if f[0] == "timeout" {
			rn.fc.AttemptTimeout = d
		} else {
			rn.fc.GiveUpAfter = d
		}
	case "backoff":
		if len(args) != 2 {
			return false, errUsage("backoff BASE MAX")
		}
		base, err := time.ParseDuration(args[0])
		if err != nil {
			return false, err
		}
		ceiling, err := time.ParseDuration(args[1])
		if err != nil {
			return false, err
		}
		rn.fc.BackoffBase, rn.fc.BackoffMax = base, ceiling
	case "members":
		rn.started = true
		if len(args) == 0 {
			return false, errUsage("members N | members NAME...")
		}
		names := args
		if n, err := strconv.Atoi(args[0]); err == nil && len(args) == 1 {
			if n < 1 || n > 26 {
				return false, fmt.Errorf("%w: members %d", ErrBadArgument, n)
			}
			names = nil
			for i := range n {
				names = append(names, string(rune('a'+i)))
			}
		}
		for _, n := range names {
			if err := s.Add(n); err != nil {
				return false, err
			}
		}
	case "join":
		rn.started = true
		if len(args) != 1 {
			return false, errUsage("join NAME")
		}
		return true, s.Join(args[0])
	case "publish":
		if len(args) != 1 && len(args) != 2 {
			return false, errUsage("publish NAME [COUNT]")
		}
		count := 1
		if len(args) == 2 {
			if count, err = strconv.Atoi(args[1]); err != nil || count < 1 {
				return false, fmt.Errorf("%w: count %q", ErrBadArgument, args[1])
			}
		}
		for range count {
			if _, err := s.Publish(args[0]); err != nil {
				return false, err
			}
		}
	case "restart":
		if len(args) < 1 {
			return false, errUsage("restart NAME [newboot] [wipe]")
		}
		var o RestartOptions
		for _, a := range args[1:] {
			switch a {
			case "newboot":
				o.NewBoot = true
			case "wipe":
				o.Wipe = true
			default:
				return false, errUsage("restart NAME [newboot] [wipe]")
			}
		}
		return true, s.Restart(args[0], o)
	case "answer":
		modes := map[string]Answer{"data": AnswerData, "mute": AnswerMute, "nack": AnswerNack, "invalid": AnswerInvalid}
		if len(args) != 2 {
			return false, errUsage("answer NAME data|mute|nack|invalid")
		}
		a, ok := modes[args[1]]
		if !ok {
			return false, errUsage("answer NAME data|mute|nack|invalid")
		}
		return true, s.SetAnswer(args[0], a)
	case "announce":
		if len(args) != 3 {
			return false, errUsage("announce NODE BOOT SEQ")
		}
		boot, err := strconv.ParseUint(args[1], 10, 64)
		if err != nil {
			return false, err
		}
		seq, err := strconv.ParseUint(args[2], 10, 64)
		if err != nil {
			return false, err
		}
		s.Announce(args[0], boot, seq)
	case "loss", "syncloss":
		if len(args) != 1 {
			return false, errUsage(f[0] + " P")
		}
		p, err := parseProb(args[0])
		if err != nil {
			return false, err
		}
		if f[0] == "loss" {
			return true, s.SetFetchLoss(p)
		}
		return true, s.Sync().SetLoss(p)
	case "advance":
		if len(args) != 1 {
			return false, errUsage("advance D")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 {
			return false, fmt.Errorf("%w: duration %q", ErrBadArgument, args[0])
		}
		s.Advance(d)
	case "settle":
		limit := DefaultStabilizeLimit
		if len(args) == 1 {
			if limit, err = time.ParseDuration(args[0]); err != nil {
				return false, err
			}
		} else if len(args) > 1 {
			return false, errUsage("settle [LIMIT]")
		}
		took, done := s.Settle(limit)
		if done {
			fmt.Fprintf(rn.w, "settled after %s\n", fmtDur(took))
		} else {
			fmt.Fprintf(rn.w, "not settled within %s\n", fmtDur(limit))
		}
	case "stats":
		for _, l := range s.DescribeFetch() {
			fmt.Fprintln(rn.w, l)
		}
	case "check":
		return rn.check(args)
	default:
		return false, fmt.Errorf("%w: unknown command %q", ErrBadArgument, f[0])
	}
	return true, nil
}

func (rn *fetchRunner) check(args []string) (bool, error) {
	s := rn.sim
	result := func(ok bool, format string, a ...any) (bool, error) {
		if ok {
			fmt.Fprintf(rn.w, "ok: "+format+"\n", a...)
		} else {
			fmt.Fprintf(rn.w, "FAIL: "+format+"\n", a...)
		}
		return ok, nil
	}
	switch {
	case len(args) == 1 && args[0] == "delivered":
		t := s.Totals()
		return result(t.Delivered == t.Wanted && t.Skipped == 0,
			"%d of %d publications delivered in order, %d skipped", t.Delivered, t.Wanted, t.Skipped)
	case len(args) >= 4 && len(args) <= 5 && args[0] == "gaveup":
		want, err := strconv.ParseUint(args[3], 10, 64)
		if err != nil {
			return false, err
		}
		if _, err := s.member(args[1]); err != nil {
			return false, err
		}
		n, reports := s.GaveUp(args[1], args[2])
		if len(args) == 5 {
			wantReports, err := strconv.Atoi(args[4])
			if err != nil {
				return false, err
			}
			return result(n == want && reports == wantReports,
				"%s gave up %d numbers of %s in %d reports, want %d in %d", args[1], n, args[2], reports, want, wantReports)
		}
		return result(n == want, "%s gave up %d numbers of %s (%d reports), want %d", args[1], n, args[2], reports, want)
	case len(args) == 1 && args[0] == "window":
		t := s.Totals()
		return result(t.MaxInProgress <= rn.fc.Window && t.MaxOutstanding <= rn.fc.MaxOutstanding,
			"at most %d in progress per producer (window %d), %d on the network per member (cap %d)",
			t.MaxInProgress, rn.fc.Window, t.MaxOutstanding, rn.fc.MaxOutstanding)
	case len(args) == 2 && args[0] == "bounded":
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return false, err
		}
		t := s.Totals()
		producers := 0
		for _, name := range s.Sync().Members() {
			producers = max(producers, s.FetcherStats(name).Producers)
		}
		return result(t.MaxRanges <= n && t.MaxHeld <= n,
			"at most %d ranges and %d numbers in progress per member at any time (bound %d), %d producers now",
			t.MaxRanges, t.MaxHeld, n, producers)
	}
	return false, errUsage("check delivered | check gaveup NAME NODE N [REPORTS] | check window | check bounded N")
}
