package e2e

import (
	"fmt"
	"net"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/engine/face"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"
)

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A WebSocket client (what a browser running NDNts uses) reaches the node's
// ping responder through the WebSocket listener, and the listener binds
// only the address it was given.
func TestWebSocketClient(t *testing.T) {
	port := freeTCPPort(t)
	n := startNode(t, "", localOnly+fmt.Sprintf(`
[node]
name = "/e2e/ws"
[faces.websocket]
enabled = true
listen = "127.0.0.1:%d"
`, port))

	e := engine.NewBasicEngine(face.NewWebSocketFace(fmt.Sprintf("ws://127.0.0.1:%d", port), true))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	name, _ := enc.NameFromStr("/e2e/ws/ping/seq=1")
	intr, err := e.Spec().MakeInterest(name, &ndn.InterestConfig{
		Lifetime: optional.Some(4 * time.Second),
		Nonce:    utils.ConvertNonce(e.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan ndn.ExpressCallbackArgs, 1)
	if err := e.Express(intr, func(a ndn.ExpressCallbackArgs) { res <- a }); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-res:
		if a.Result != ndn.InterestResultData {
			t.Fatalf("ping over WebSocket: %s", a.Result)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer over WebSocket")
	}
	if !n.alive() {
		t.Fatal("node died")
	}
}
