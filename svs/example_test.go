package svs_test

import (
	"context"
	"fmt"
	"log"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// A member on the in-process forwarder. (Not run: one forwarder per
// process, and the package's tests have theirs.)
func Example() {
	ctx := context.Background()
	fwd, err := fw.New(fw.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	if err := fwd.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer fwd.Close()
	group, _ := enc.NameFromStr("/example/chat")
	node, _ := enc.NameFromStr("/example/alice")
	if err := fwd.SetStrategy(group, "multicast"); err != nil {
		log.Fatal(err)
	}

	face, err := fwd.NewFace()
	if err != nil {
		log.Fatal(err)
	}
	eng := engine.NewBasicEngine(face)
	if err := eng.Start(); err != nil {
		log.Fatal(err)
	}
	defer eng.Stop()

	s, err := svs.New(eng, svs.Config{
		Group: group,
		Node:  node,
		OnUpdate: func(u svs.Update) {
			// Runs on the Sync's goroutine: hand slow work off.
			name, _ := wire.CoreToName(u.Node)
			for seq := u.Low; seq <= u.High; seq++ {
				fmt.Println("fetch", wire.PublicationName(name, group, u.Boot, seq))
			}
		},
		Register: func(prefix enc.Name) error {
			return fwd.AddRoute(prefix, face.FaceID(), 0, fw.OriginApp)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.Run(ctx) }()

	seq, err := s.PublishSeq(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published", wire.PublicationName(node, group, s.Boot(), seq))
}
