package node

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/ping"
)

// app is an in-process application: an engine on its own in-process face.
type app struct {
	name   string
	engine ndn.Engine
	faceID uint64
	down   <-chan struct{} // closed when its face is closed
}

// startPing runs the built-in ping responder on <node name>/ping.
func (n *Node) startPing() error {
	name := n.name
	prefix := name.Append(enc.NewGenericComponent("ping"))
	e, err := n.startApp("ping")
	if err != nil {
		return err
	}
	if err := ping.Serve(e.engine, prefix, nil); err != nil {
		return err
	}
	if err := n.fwd.AddRoute(prefix, e.faceID, 0, fw.OriginApp); err != nil {
		return err
	}
	n.log.Info("ping responder", "prefix", prefix)
	return nil
}

// startApp starts an engine on a new in-process face; Close stops it before
// the forwarder.
func (n *Node) startApp(name string) (app, error) {
	af, err := n.fwd.NewFace()
	if err != nil {
		return app{}, err
	}
	down := make(chan struct{})
	af.OnDown(func() { close(down) })
	e := engine.NewBasicEngine(af)
	if err := e.Start(); err != nil {
		_ = af.Close()
		return app{}, fmt.Errorf("node: %s: %w", name, err)
	}
	a := app{name: name, engine: e, faceID: af.FaceID(), down: down}
	n.apps = append(n.apps, a)
	return a, nil
}
