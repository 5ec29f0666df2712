// Package client gives a Go application a face to a node (ndnsvs-node, NFD
// or ndnd) on its unix socket or over TCP that survives the node: an
// ndn.Face (ndnd's std) on which engine.NewBasicEngine and svs.New run.
//
// ndnd's own stream face exits the process with code 106 when the node goes
// away, and reads with a framer that panics on a TLV-LENGTH above 2^63
// (named-data/ndnd issue 211). This one:
//
//   - reads frames with fw/link's StreamReader: an impossible length ends
//     the connection, never the process; frames that are neither Interest,
//     Data nor LpPacket are dropped and counted;
//   - reports the node going away (OnDown, State, Changed, WaitState) and
//     never calls OnError for it (ndnd's engine would stop);
//   - reconnects with exponential backoff and equal jitter, bounded by
//     Config.MaxBackoff, until Close (or Config.MaxAttempts);
//   - registers again, on every connection and before OnUp, each prefix
//     given to Register (NFD rib/register commands, signed as ndnd signs
//     them: /localhost/nfd on a unix socket, /localhop/nfd on TCP), and
//     reports failures (Config.OnRegisterError);
//   - fails Send at once with ErrDown while there is no connection, and
//     bounds every write by Config.WriteTimeout.
//
// A sync member on it:
//
//	f, err := client.New(client.Config{}) // DefaultTransport(): NDN_CLIENT_TRANSPORT, client.conf, the node's socket
//	e := engine.NewBasicEngine(f)
//	err = e.Start()                       // opens the face
//	s, err := svs.New(e, svs.Config{Group: group, Node: node, Register: f.Register})
//	go s.Run(ctx)
//	seq, err := s.PublishSeq(ctx)         // svs.ErrFaceDown while the node is away
//
// svs.Sync follows the face's OnDown and OnUp: while the face is down
// Publish returns svs.ErrFaceDown; when it is back the member registers its
// sync prefix again and announces its vector, so the group learns every
// publication made before the node went away. See docs/client.md.
package client
