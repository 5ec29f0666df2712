package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The sec report end to end with small counts: a child per signer runs,
// every publication is learned by every member, every vector of the
// measured phase is validated and accepted without a fetch, and the chain
// signers fetched each other's certificates in the warm-up.
func TestBenchSec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes")
	}
	useTestChildren(t)
	progress := captureProgress(t)
	var out bytes.Buffer
	err := benchSec([]string{"-members", "3", "-pubs", "20", "-runs", "1", "-settle", "100ms"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	for i := range len(secSigners) {
		phases = append(phases, fmt.Sprintf("sec %d/%d", i+1, len(secSigners)))
	}
	checkProgress(t, progress.String(), out.String(), phases)
	rows := map[string][]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Split(strings.Trim(line, "| "), " | ")
		if len(f) == 15 && f[0] == "3" {
			rows[f[1]] = f
		}
	}
	for _, sg := range secSigners {
		f, ok := rows[sg]
		if !ok {
			t.Errorf("no row for %s", sg)
			continue
		}
		// accepted/SI, refused, fetches, warm-up, missed
		if f[9] != "1.00" || f[10] != "0" || f[11] != "0" || f[13] != "0" {
			t.Errorf("%s: accepted/SI %s, refused %s, fetches %s, missed %s; want 1.00, 0, 0, 0", sg, f[9], f[10], f[11], f[13])
		}
		warm, _ := strconv.Atoi(f[12])
		if chain := sg == "ed25519" || sg == "ecdsa"; chain && warm != 3*2 || !chain && warm != 0 {
			t.Errorf("%s: %s certificate fetches in the warm-up", sg, f[12])
		}
		if sg == "digest" && (f[6] != "1.00" || f[8] != "1.00") {
			t.Errorf("digest's ratios to itself: %s, %s", f[6], f[8])
		}
	}
}
