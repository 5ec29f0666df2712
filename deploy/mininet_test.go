package deploy

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// The Mininet lab of 40 hosts on four LANs joined by router hosts
// (deploy/mininet/lab.py), in a network namespace of its own: every node
// learns every host's publication, across the routers; the time to
// converge and the Interests per publication are logged.
func TestMininetForty(t *testing.T) {
	netlab.NeedRoot(t, "the Mininet lab")
	// Debian's mininet is for Debian's python3, not another on the PATH.
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import mininet.nodelib").Run(); err != nil {
		t.Skip("skipped: Debian's mininet is not installed (apt-get install mininet bridge-utils)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: no unshare (util-linux)")
	}
	bin := filepath.Join(t.TempDir(), "ndnsvs-node")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ndnsvs/ndnsvs-node/cmd/ndnsvs-node").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script, err := filepath.Abs("mininet/lab.py")
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("unshare", "-n", "-m", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, python, script, "--bin", bin, "-n", "40", "--lans", "4")
	c.Dir = t.TempDir()
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	t.Logf("lab.py: %s", strings.TrimSpace(string(out)))
	var r struct {
		Hosts     int     `json:"hosts"`
		Converged bool    `json:"converged"`
		Missing   int     `json:"missing_at_timeout"`
		Seconds   float64 `json:"seconds_to_converge"`
		Pubs      int     `json:"publications"`
		NodeSync  float64 `json:"node_sync_interests_per_publication"`
		Multicast float64 `json:"multicast_interests_per_publication"`
	}
	if jerr := json.Unmarshal(out, &r); jerr != nil || err != nil {
		t.Fatalf("lab.py: %v %v\n%s", err, jerr, stderr.String())
	}
	if !r.Converged || r.Hosts != 40 || r.Pubs != 40 {
		t.Fatalf("40 hosts: %+v", r)
	}
	t.Logf("40 nodes on 4 LANs: converged in %.2f s; %.2f Sync Interests sent by the nodes' members and %.1f Interests on multicast faces per publication",
		r.Seconds, r.NodeSync, r.Multicast)
}
