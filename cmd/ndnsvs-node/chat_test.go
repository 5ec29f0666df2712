package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// chatter is a chat app whose keyboard is a pipe.
type chatter struct {
	*runningApp
	keys *io.PipeWriter
}

func startChat(t *testing.T, name, state string) *chatter {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	a := startApp(t, "chat", r, "-n", name, "--attach", "yes", "-gp", "/ndn/svs/chat-test", "--state", state)
	a.out.waitFor(t, name, "chat: "+name+" in /ndn/svs/chat-test", 10*time.Second)
	return &chatter{runningApp: a, keys: w}
}

func (c *chatter) say(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.keys, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// Two chats attached to one node see each other's lines in order; a line
// with escape sequences is shown defused; a chat started again with its
// state shows the history (its own lines and the other's) once, and goes
// on; Ctrl-D (the end of stdin) quits with status 0.
func TestChatAttached(t *testing.T) {
	attachTestNode(t)
	stateA, stateB := t.TempDir(), t.TempDir()
	a := startChat(t, "/erin", stateA)
	b := startChat(t, "/frank", stateB)
	for i, line := range []string{"hello frank", "how are you", "bye"} {
		a.say(t, line)
		a.out.waitFor(t, "erin", "YOU: "+line+"\n", 10*time.Second)
		if i == 1 {
			b.out.waitFor(t, "frank", "/erin: how are you\n", 15*time.Second)
			b.say(t, "fine")
			b.out.waitFor(t, "frank", "YOU: fine\n", 10*time.Second)
		}
	}
	b.out.waitFor(t, "frank", "/erin: bye\n", 15*time.Second)
	a.out.waitFor(t, "erin", "/frank: fine\n", 15*time.Second)
	if !inOrderLines(b.out.String(), "/erin: hello frank", "/erin: how are you", "/erin: bye") {
		t.Errorf("frank saw erin's lines out of order:\n%s", b.out.String())
	}
	a.say(t, "\x1b[2Jgone")
	b.out.waitFor(t, "frank", "/erin: \uFFFD[2Jgone\n", 15*time.Second)

	// frank quits with Ctrl-D and comes back with his state.
	b.keys.Close()
	if code := <-b.code; code != exitOK {
		t.Fatalf("frank exit %d after the end of stdin:\n%s", code, b.errs.String())
	}
	close(b.code)
	shown := b.out.String()
	b2 := startChat(t, "/frank", stateB)
	b2.out.waitFor(t, "frank again", "-- now --", 5*time.Second)
	// The history holds what frank showed (nothing else), his own line,
	// and each member's lines in order. It is in the order the store
	// wrote them: a fetched line counts from when it was stored, which
	// may be a little after it was shown.
	hist := b2.out.String()
	hist = hist[strings.Index(hist, "\n-- the last")+1 : strings.Index(hist, "-- now --")]
	for _, l := range strings.Split(strings.TrimSpace(hist), "\n")[1:] {
		if !strings.Contains(shown, l+"\n") {
			t.Errorf("frank's history shows %q, which he never showed", l)
		}
	}
	if !inOrderLines(hist, "/erin: hello frank", "/erin: how are you", "/erin: bye") || !strings.Contains(hist, "YOU: fine\n") {
		t.Errorf("frank's history after a restart:\n%s", hist)
	}
	a.say(t, "welcome back")
	b2.out.waitFor(t, "frank again", "/erin: welcome back\n", 15*time.Second)
	// Erin's last line before the restart may have been shown after
	// frank's vector was last saved: then it is fetched and shown again,
	// before what came next (at least once, in order), and never twice.
	if strings.Count(b2.out.String(), "/erin: \uFFFD[2Jgone\n") > 1 {
		t.Errorf("frank after the restart shows erin's last line twice:\n%s", b2.out.String())
	}
	b2.say(t, "thanks")
	a.out.waitFor(t, "erin", "/frank: thanks\n", 15*time.Second)
	if n := strings.Count(b2.out.String(), "/erin: bye\n"); n > 1 {
		t.Errorf("frank shows erin's bye %d times after the restart:\n%s", n, b2.out.String())
	}
	// frank came back as a new incarnation: erin fetched nothing in vain.
	if strings.Contains(a.out.String(), "[MISSED]") {
		t.Errorf("erin missed publications of frank's:\n%s", a.out.String())
	}
}

// A second chat with the same name and group on the machine is refused:
// its store is locked.
func TestChatSameNameIsRefused(t *testing.T) {
	attachTestNode(t)
	state := t.TempDir()
	startChat(t, "/gina", state)
	r, _ := io.Pipe()
	second := startApp(t, "chat", r, "-n", "/gina", "--attach", "yes", "-gp", "/ndn/svs/chat-test", "--state", state)
	select {
	case code := <-second.code:
		close(second.code)
		if code != exitFailure || !strings.Contains(second.errs.String(), "chat store") {
			t.Errorf("second chat: exit %d, stderr %q; want 1 and the store's error", code, second.errs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("second chat with the same name still running")
	}
}

// The list of incarnations survives a line cut short by a crash, and
// records each incarnation once.
func TestProducersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.producers")
	ps, err := loadProducers(path)
	if err != nil || len(ps.keys()) != 0 {
		t.Fatalf("new list: %v, %d keys", err, len(ps.keys()))
	}
	a := core.Key{Node: wire.NameToCore(enc.Name{enc.NewGenericComponent("a")}), Boot: 7}
	b := core.Key{Node: wire.NameToCore(enc.Name{enc.NewGenericComponent("b")}), Boot: 9}
	for _, k := range []core.Key{a, b, a} {
		if err := ps.add(k); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "3 zz\n5 0801\n12 080161") // a bad line, a bad name, a torn line
	f.Close()
	raw, _ := os.ReadFile(path)
	if n := strings.Count(string(raw), "\n"); n != 4 {
		t.Errorf("%d lines, want 2 written for 2 incarnations and 2 bad ones:\n%s", n, raw)
	}
	again, err := loadProducers(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.keys(); len(got) != 2 || !again.seen[a] || !again.seen[b] {
		t.Errorf("reloaded %v, want a and b", got)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"hello":          "hello",
		"héllo wörld":    "héllo wörld",
		"\x1b[31mred":    "\uFFFD[31mred",
		"a\rb\nc\td":     "a\uFFFDb\uFFFDc\uFFFDd",
		"bad \xff utf-8": "bad \uFFFD utf-8",
		"\u0085next":     "\uFFFDnext",
	} {
		if got := printable([]byte(in)); got != want || !utf8.ValidString(got) {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// inOrderLines reports whether screen has lines equal to want, in want's
// order (other lines between them allowed).
func inOrderLines(screen string, want ...string) bool {
	i := 0
	for _, l := range strings.Split(screen, "\n") {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	return i == len(want)
}

// The line being typed is edited by the chat on a raw terminal: printable
// keys are echoed, Backspace and Ctrl-U edit, cursor keys and controls
// are ignored, Enter completes a line that is not blank, Ctrl-D on an
// empty line quits; a line printed meanwhile goes above the typed text,
// which is redrawn after the prompt.
func TestChatScreenEditing(t *testing.T) {
	var w strings.Builder
	c := &chatScreen{w: &w, edit: true}
	type result struct {
		line       string
		enter, eof bool
	}
	feed := func(keys string) []result {
		var out []result
		for _, r := range keys {
			if line, enter, eof := c.key(r); enter || eof {
				out = append(out, result{line, enter, eof})
			}
		}
		return out
	}
	got := feed("hx\x7f\x7fhé\x1b[D\x1bOA\x01llo")
	if len(got) != 0 || string(c.typed) != "héllo" || c.size != len("héllo") {
		t.Fatalf("typed %q (%d bytes), results %v", string(c.typed), c.size, got)
	}
	w.Reset()
	c.println("/bob: hi")
	if want := "\r\x1b[2K/bob: hi\n> héllo"; w.String() != want {
		t.Errorf("a line printed while typing wrote %q, want %q", w.String(), want)
	}
	if got := feed("\r"); len(got) != 1 || got[0] != (result{line: "héllo", enter: true}) || len(c.typed) != 0 {
		t.Errorf("Enter: %v, typed %q", got, string(c.typed))
	}
	if got := feed("   \rx\x15\r"); len(got) != 0 {
		t.Errorf("a blank line or one erased with Ctrl-U was sent: %v", got)
	}
	if got := feed("a\x04"); len(got) != 0 {
		t.Errorf("Ctrl-D after text quit: %v", got)
	}
	if got := feed("\x7f\x04"); len(got) != 1 || !got[0].eof {
		t.Errorf("Ctrl-D on an empty line: %v, want the end", got)
	}

	var plain strings.Builder
	p := &chatScreen{w: &plain}
	p.println("/bob: hi")
	if plain.String() != "/bob: hi\n" {
		t.Errorf("without editing, a line is printed plainly: %q", plain.String())
	}
}
