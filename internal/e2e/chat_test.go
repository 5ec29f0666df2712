package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tmuxServers numbers the private tmux servers of this process.
var tmuxServers atomic.Int64

// terminal is a tmux pane running a program: keys go in with send-keys,
// the screen comes out with capture-pane. Every pane is on a tmux server of
// its own, never the user's, with its socket in the test's directory (-S)
// and killed at cleanup. pipe-pane copies the pane's output into a FIFO
// that a goroutine reads, so a waiter wakes on every change of the screen
// instead of polling it.
type terminal struct {
	t       *testing.T
	name    string
	sock    string // tmux -S path
	changed chan struct{}
}

// needTmux skips the test, saying why, when tmux is not installed.
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipped: tmux is not installed (apt-get install tmux); the chat test drives its terminals with it")
	}
}

// newTerminal starts argv in a new 160×50 tmux pane.
func newTerminal(t *testing.T, name string, env []string, argv ...string) *terminal {
	t.Helper()
	tm := &terminal{
		t:       t,
		name:    name,
		sock:    filepath.Join(t.TempDir(), fmt.Sprintf("tmux-%d.sock", tmuxServers.Add(1))),
		changed: make(chan struct{}, 1),
	}
	fifo := filepath.Join(t.TempDir(), "pane.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The program's exit is printed on the screen: the shell outlives a
	// Ctrl-C (a trap, which the program does not inherit, unlike an
	// ignored signal) and reports the status; tmux's own "Pane is dead"
	// may come late (it reaps its panes' processes when it gets to it).
	cmdline := `trap : INT; "$@"; echo "[exited with status $?]"`
	cmdline = shellQuote([]string{"sh", "-c", cmdline, "sh"}) + " " + shellQuote(append(append([]string{"env"}, env...), argv...))
	tm.tmux("new-session", "-d", "-s", "app", "-x", "160", "-y", "50", cmdline)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", tm.sock, "kill-server").Run() })
	// Keep the pane when the shell exits, so that its last screen can
	// still be read.
	tm.tmux("set-option", "-t", "app", "remain-on-exit", "on")
	f, err := os.OpenFile(fifo, os.O_RDWR, 0) // RDWR: the open does not wait for a writer
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	go func() {
		r := bufio.NewReader(f)
		buf := make([]byte, 4096)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
			select {
			case tm.changed <- struct{}{}:
			default:
			}
		}
	}()
	tm.tmux("pipe-pane", "-t", "app", "-o", "cat > "+shellQuote([]string{fifo}))
	return tm
}

func (tm *terminal) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen returns the pane's text, scrollback included, lines trimmed.
func (tm *terminal) screen() string {
	tm.t.Helper()
	out := tm.tmux("capture-pane", "-p", "-J", "-t", "app", "-S", "-")
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// typeLine types text and Enter.
func (tm *terminal) typeLine(text string) {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", "app", "-l", text)
	tm.tmux("send-keys", "-t", "app", "Enter")
}

// interrupt sends Ctrl-C.
func (tm *terminal) interrupt() {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", "app", "C-c")
}

// waitScreen waits until cond holds for the screen, re-reading it at every
// change of the pane, and fails after timeout with what and the screen.
func (tm *terminal) waitScreen(what string, timeout time.Duration, cond func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		select {
		case <-tm.changed:
		case <-deadline.C:
			tm.t.Fatalf("%s: %s not on screen within %v; screen:\n%s", tm.name, what, timeout, s)
		}
	}
}

func (tm *terminal) waitFor(want string, timeout time.Duration) string {
	tm.t.Helper()
	return tm.waitScreen(strconv.Quote(want), timeout, func(s string) bool { return strings.Contains(s, want) })
}

// shellQuote quotes argv for sh -c, as tmux runs its command.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// inOrder reports whether the lines of screen that are exactly one of
// want appear in want's order, each once.
func inOrder(screen string, want []string) bool {
	i := 0
	for _, l := range strings.Split(screen, "\n") {
		if i < len(want) && strings.TrimSpace(l) == want[i] {
			i++
		}
	}
	return i == len(want)
}

// chatTerm is a chat run in a terminal.
type chatTerm struct {
	*terminal
	name string
}

// startChatTerm runs "ndnsvs-node chat -n name" in a terminal, in network
// namespace ns if set, with NDN_CLIENT_TRANSPORT=transport, and waits for
// its banner.
func startChatTerm(t *testing.T, ns, transport, name, state string, extra ...string) *chatTerm {
	t.Helper()
	bin, _ := binaries(t)
	argv := []string{bin, "chat", "-n", name, "--state", state}
	argv = append(argv, extra...)
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	c := &chatTerm{terminal: newTerminal(t, name, []string{"NDN_CLIENT_TRANSPORT=" + transport}, argv...), name: name}
	c.waitFor("chat: "+name+" in /ndn/svs", 20*e2eSecond)
	return c
}

// say types a line and waits until the chat shows it as sent.
func (c *chatTerm) say(line string) {
	c.t.Helper()
	c.typeLine(line)
	c.waitFor("YOU: "+line, 10*e2eSecond)
}

// talk has each chat say its lines, one chat after the other, and checks
// that every chat shows every other's lines in order, and its own once.
func talk(t *testing.T, chats []*chatTerm, round string) {
	t.Helper()
	said := map[string][]string{}
	for _, c := range chats {
		for i := 1; i <= 3; i++ {
			line := fmt.Sprintf("%s %d from %s", round, i, c.name)
			c.say(line)
			said[c.name] = append(said[c.name], c.name+": "+line)
		}
	}
	for _, c := range chats {
		for _, other := range chats {
			if other == c {
				continue
			}
			want := said[other.name]
			screen := c.waitScreen(fmt.Sprintf("%s's %s lines in order", other.name, round), 30*e2eSecond, func(s string) bool {
				return inOrder(s, want)
			})
			for _, w := range want {
				if n := strings.Count("\n"+screen+"\n", "\n"+w+"\n"); n > 1 {
					t.Errorf("%s shows %q %d times", c.name, w, n)
				}
			}
		}
	}
}

// Tried as a new user would: three chats in three network namespaces on
// one bridge, each on a forwarder of its own with no configuration (the
// default: UDP multicast on every interface), see each other's lines in
// order. One quits with Ctrl-C and comes back with its state: it shows
// the history, and the talk goes on.
func TestChatOnALAN(t *testing.T) {
	needTmux(t)
	l := newLAN(t, 3)
	nobody := "unix://" + filepath.Join(t.TempDir(), "nobody.sock") // --attach auto: no node here
	states := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	var chats []*chatTerm
	for i, ns := range l.hosts {
		chats = append(chats, startChatTerm(t, ns, nobody, fmt.Sprintf("/user%d", i+1), states[i]))
	}
	for _, c := range chats {
		if !strings.Contains(c.screen(), "(own forwarder, 1 network face)") {
			t.Fatalf("%s: not on its own forwarder with one multicast face:\n%s", c.name, c.screen())
		}
	}
	talk(t, chats, "hello")

	// A line arrives while another is half typed: it goes above, and the
	// typed text stays whole on the last line, after the prompt.
	chats[0].tmux("send-keys", "-t", "app", "-l", "half typed")
	chats[0].waitScreen("the typed text", 10*e2eSecond, func(s string) bool { return strings.HasSuffix(s, "> half typed") })
	chats[1].say("while you type")
	screen := chats[0].waitScreen("the line above the typed text", 30*e2eSecond, func(s string) bool {
		return strings.HasSuffix(s, "/user2: while you type\n> half typed")
	})
	chats[0].typeLine(" ends")
	chats[0].waitFor("YOU: half typed ends", 10*e2eSecond)
	for _, c := range chats[1:] {
		c.waitFor("/user1: half typed ends", 30*e2eSecond)
	}
	if strings.Count(screen, "half typed") != 1 {
		t.Errorf("the typed text was echoed more than once:\n%s", screen)
	}

	chats[2].interrupt()
	chats[2].waitFor("[exited with status 0]", 15*e2eSecond)
	back := startChatTerm(t, l.hosts[2], nobody, "/user3", states[2])
	screen = back.waitFor("-- now --", 10*e2eSecond)
	if !inOrder(screen, []string{"YOU: hello 1 from /user3", "YOU: hello 2 from /user3", "YOU: hello 3 from /user3"}) ||
		!inOrder(screen, []string{"/user1: hello 1 from /user1", "/user1: hello 2 from /user1"}) {
		t.Errorf("/user3's history after a restart:\n%s", screen)
	}
	chats[2] = back
	talk(t, chats, "again")
}

// The same on one machine: three chats attached to one node (its unix
// socket; the node opens nothing else).
func TestChatThroughOneNode(t *testing.T) {
	needTmux(t)
	n := startNode(t, "", localOnly)
	var chats []*chatTerm
	for i := 1; i <= 3; i++ {
		c := startChatTerm(t, "", "unix://"+n.sock, fmt.Sprintf("/user%d", i), t.TempDir(), "--attach", "yes")
		if !strings.Contains(c.screen(), "attached to the node at unix://"+n.sock) {
			t.Fatalf("%s: not attached:\n%s", c.name, c.screen())
		}
		chats = append(chats, c)
	}
	talk(t, chats, "hello")
}
