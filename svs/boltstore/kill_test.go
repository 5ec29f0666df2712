package boltstore_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
)

// killChildEnv makes the test binary, started again by TestKillMidWrites,
// run the publishing child instead of the test.
const killChildEnv = "BOLTSTORE_KILL_CHILD"

// killBoot is the bootstrap time of the publishing member: it resumes the
// same incarnation after every kill.
const killBoot = 1_780_000_000

// killStep is the child's reservation step: small, so that kills land
// between reservations as often as between publications.
const killStep = 64

// content is what run r stores for seq: a reused (boot, seq) in a later
// run would carry another run number.
func content(run int, seq uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(run))
	return append(b, bytes.Repeat([]byte{byte(seq)}, 84)...) // 100 B
}

// TestKillMidWrites starts a publishing member in a child process, kills
// it with SIGKILL at a random moment while 8 goroutines publish, 10 times
// over, and checks after each kill that every publication the child
// reported as stored is there with its content, that the reservation
// never went back and covers everything acknowledged, and that no (boot,
// seq) was ever acknowledged twice.
func TestKillMidWrites(t *testing.T) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		killChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts 10 processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	rng := rand.New(rand.NewPCG(1, 2))
	acked := map[uint64]int{} // seq -> run that acknowledged it
	var lastReserved uint64
	for run := range 10 {
		killAfter := rng.IntN(1500) // acknowledgements before the kill
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidWrites$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir, "BOLTSTORE_KILL_RUN="+strconv.Itoa(run))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		sc := bufio.NewScanner(out)
		n, resumed, killed := 0, uint64(0), false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "ready": // ready <reserved at open>
				resumed, _ = strconv.ParseUint(f[1], 10, 64)
				if resumed < lastReserved {
					t.Fatalf("run %d: reservation went back from %d to %d", run, lastReserved, resumed)
				}
			case "reserved":
				r, _ := strconv.ParseUint(f[1], 10, 64)
				lastReserved = max(lastReserved, r)
			case "ack":
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				if seq <= resumed {
					t.Fatalf("run %d: seq %d acknowledged at or below the reservation %d it resumed from", run, seq, resumed)
				}
				if prev, ok := acked[seq]; ok {
					t.Fatalf("run %d: seq %d acknowledged again (first by run %d)", run, seq, prev)
				}
				acked[seq] = run
				n++
			case "error":
				t.Fatalf("run %d: child: %s", run, sc.Text())
			}
			if !killed && n >= killAfter {
				must(t, cmd.Process.Signal(syscall.SIGKILL))
				killed = true
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: child ended with %v, not by SIGKILL", run, err)
		}

		st, err := boltstore.Open(path, boltstore.Options{CheckOnOpen: true})
		must(t, err)
		state, err := st.State()
		must(t, err)
		if state.Boot != killBoot || state.Reserved < lastReserved {
			t.Fatalf("run %d: State (boot %d, reserved %d) after the kill, the child had reserved %d",
				run, state.Boot, state.Reserved, lastReserved)
		}
		lastReserved = state.Reserved
		maxAcked := uint64(0)
		for seq, r := range acked {
			p, err := st.Own(killBoot, seq)
			if err != nil {
				t.Fatalf("run %d: acknowledged seq %d (run %d): %v", run, seq, r, err)
			}
			if !bytes.Equal(p.Segments[0], content(r, seq)) {
				t.Fatalf("run %d: seq %d holds other content than run %d acknowledged", run, seq, r)
			}
			maxAcked = max(maxAcked, seq)
		}
		if maxAcked > state.Reserved {
			t.Fatalf("run %d: seq %d acknowledged above the reservation %d", run, maxAcked, state.Reserved)
		}
		if _, err := st.State(); err != nil {
			t.Fatal(err)
		}
		must(t, st.Close())
		t.Logf("run %d: killed after %d acknowledgements (asked %d); %d in all, reserved %d", run, n, killAfter, len(acked), state.Reserved)
	}
}

// killChild publishes until it is killed: it resumes above the stored
// reservation, extends it ahead of need, and prints "ack <seq>" once each
// PutOwn has returned. It never returns.
func killChild(dir string) {
	fail := func(err error) {
		fmt.Printf("error %v\n", err)
		os.Exit(3)
	}
	run, _ := strconv.Atoi(os.Getenv("BOLTSTORE_KILL_RUN"))
	st, err := boltstore.Open(filepath.Join(dir, "store.db"), boltstore.Options{})
	if err != nil {
		fail(err)
	}
	state, err := st.State()
	if err != nil {
		fail(err)
	}
	if state.Boot != 0 && state.Boot != killBoot {
		fail(fmt.Errorf("boot %d in the store", state.Boot))
	}
	var mu sync.Mutex // orders the lines on stdout
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	say("ready %d", state.Reserved)
	q := newSequencer(reporting{st, say}, killBoot, killStep)
	q.next, q.mark = state.Reserved, state.Reserved
	if state.Boot == 0 {
		if err := st.Reserve(killBoot, 0); err != nil {
			fail(err)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seq, err := q.take()
				if err == nil {
					err = st.PutOwn(svs.Publication{Boot: killBoot, Seq: seq, Segments: [][]byte{content(run, seq)}})
				}
				if err == nil && seq%16 == 0 {
					err = st.SaveVector(binary.BigEndian.AppendUint64(nil, seq))
				}
				if err != nil {
					fail(err)
				}
				say("ack %d", seq)
			}
		}()
	}
	wg.Wait()
}

// reporting prints each reservation once it is durable, so the parent
// knows the mark the store must never go below.
type reporting struct {
	svs.Storage
	say func(string, ...any)
}

func (r reporting) Reserve(boot, seq uint64) error {
	err := r.Storage.Reserve(boot, seq)
	if err == nil {
		r.say("reserved %d", seq)
	}
	return err
}
