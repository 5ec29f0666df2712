package svstest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrCheckFailed is wrapped by RunScript's error when a check command failed.
var ErrCheckFailed = errors.New("svstest: check failed")

// DefaultStabilizeLimit bounds the stabilize command when no limit is given.
const DefaultStabilizeLimit = 10 * time.Minute

// RunScript runs a scenario script and writes its trace to w: each command
// echoed after "> ", then the events it caused. Comments (#) are echoed,
// blank lines are kept. The language, one command a line:
//
//	seed N                       seed the run (before any member joins)
//	delay D [jitter J]           one-way delay and jitter of later deliveries
//	members N | members a b …    add members silently at the current time
//	                             (N names them a, b, c, …)
//	join NAME [skew D]           add a member that announces itself at once;
//	                             skew offsets its wall clock
//	restart NAME [newboot] [wipe]
//	                             crash and restart: newboot takes a new
//	                             bootstrap time, wipe loses the persisted state
//	publish NAME [COUNT]         publish COUNT times (default 1)
//	advance D                    run the simulation for D
//	loss P                       loss probability of every delivery (0.3 or 30%)
//	drop FROM TO P               loss on one link, "*" matches any member
//	partition a b | c d          split the group; unlisted members form one more part
//	heal                         remove partitions and link loss (not loss P)
//	stabilize [LIMIT]            run until converged and quiet (default 10m)
//	print                        every member's boot, seq, phase, deadline, state
//	stats                        Sync Interests sent, in total and per member
//	check converged | check diverged | check sent OP N   (OP is ==, <= or >=)
//
// A command that cannot run stops the script with an error naming the line.
// Failed checks print FAIL and make RunScript return an error wrapping
// ErrCheckFailed after the whole script has run.
func RunScript(r io.Reader, w io.Writer) error {
	rn := &runner{w: w}
	rn.sim = New(Config{Trace: w})
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

type runner struct {
	w   io.Writer
	sim *Sim
}

// exec runs one command; ok is false when a check failed.
func (rn *runner) exec(f []string) (ok bool, err error) {
	s := rn.sim
	args := f[1:]
	switch f[0] {
	case "seed":
		if len(args) != 1 {
			return false, errUsage("seed N")
		}
		if len(s.members) > 0 || s.now != 0 {
			return false, fmt.Errorf("%w: seed must come first", ErrBadArgument)
		}
		n, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return false, err
		}
		rn.sim = New(Config{Seed: n, Trace: rn.w})
		rn.sim.SetDelay(s.delay, s.jitter)
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
	case "members":
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
		if len(args) != 1 && !(len(args) == 3 && args[1] == "skew") {
			return false, errUsage("join NAME [skew D]")
		}
		o := MemberOptions{Announce: true}
		if len(args) == 3 {
			d, err := time.ParseDuration(args[2])
			if err != nil {
				return false, err
			}
			o.Skew = d
		}
		return true, s.AddMember(args[0], o)
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
	case "advance":
		if len(args) != 1 {
			return false, errUsage("advance D")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 {
			return false, fmt.Errorf("%w: duration %q", ErrBadArgument, args[0])
		}
		s.Advance(d)
	case "loss":
		if len(args) != 1 {
			return false, errUsage("loss P")
		}
		p, err := parseProb(args[0])
		if err != nil {
			return false, err
		}
		return true, s.SetLoss(p)
	case "drop":
		if len(args) != 3 {
			return false, errUsage("drop FROM TO P")
		}
		p, err := parseProb(args[2])
		if err != nil {
			return false, err
		}
		return true, s.SetLinkLoss(args[0], args[1], p)
	case "partition":
		var groups [][]string
		cur := []string{}
		for _, a := range args {
			if a == "|" {
				groups = append(groups, cur)
				cur = []string{}
				continue
			}
			cur = append(cur, a)
		}
		groups = append(groups, cur)
		if len(groups) < 2 {
			return false, errUsage("partition A... | B...")
		}
		return true, s.Partition(groups...)
	case "heal":
		s.Heal()
	case "stabilize":
		limit := DefaultStabilizeLimit
		if len(args) == 1 {
			if limit, err = time.ParseDuration(args[0]); err != nil {
				return false, err
			}
		} else if len(args) > 1 {
			return false, errUsage("stabilize [LIMIT]")
		}
		took, done := s.Stabilize(limit)
		if done {
			fmt.Fprintf(rn.w, "stabilized after %s\n", fmtDur(took))
		} else {
			fmt.Fprintf(rn.w, "not stabilized within %s\n", fmtDur(limit))
		}
	case "print":
		for _, l := range s.Describe() {
			fmt.Fprintln(rn.w, l)
		}
	case "stats":
		parts := []string{fmt.Sprintf("total=%d", s.Sent())}
		for _, m := range s.members {
			parts = append(parts, fmt.Sprintf("%s=%d", m.name, m.sent))
		}
		fmt.Fprintf(rn.w, "sent %s\n", strings.Join(parts, " "))
	case "check":
		return rn.check(args)
	default:
		return false, fmt.Errorf("%w: unknown command %q", ErrBadArgument, f[0])
	}
	return true, nil
}

func (rn *runner) check(args []string) (bool, error) {
	s := rn.sim
	switch {
	case len(args) == 1 && args[0] == "converged":
		if s.Converged() {
			fmt.Fprintln(rn.w, "ok: converged")
			return true, nil
		}
		for _, d := range s.differences() {
			fmt.Fprintf(rn.w, "FAIL: %s\n", d)
		}
		return false, nil
	case len(args) == 1 && args[0] == "diverged":
		if !s.Converged() {
			fmt.Fprintln(rn.w, "ok: diverged")
			return true, nil
		}
		fmt.Fprintln(rn.w, "FAIL: converged")
		return false, nil
	case len(args) == 3 && args[0] == "sent":
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return false, err
		}
		var ok bool
		switch args[1] {
		case "==":
			ok = s.Sent() == n
		case "<=":
			ok = s.Sent() <= n
		case ">=":
			ok = s.Sent() >= n
		default:
			return false, errUsage("check sent (==|<=|>=) N")
		}
		if ok {
			fmt.Fprintf(rn.w, "ok: sent %d %s %d\n", s.Sent(), args[1], n)
			return true, nil
		}
		fmt.Fprintf(rn.w, "FAIL: sent %d, want %s %d\n", s.Sent(), args[1], n)
		return false, nil
	}
	return false, errUsage("check converged | check diverged | check sent OP N")
}

func errUsage(u string) error { return fmt.Errorf("%w: usage: %s", ErrBadArgument, u) }

// parseProb reads 0.3 or 30%.
func parseProb(s string) (float64, error) {
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 100
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || !(p/scale >= 0 && p/scale <= 1) {
		return 0, fmt.Errorf("%w: probability %q", ErrBadArgument, s)
	}
	return p / scale, nil
}
