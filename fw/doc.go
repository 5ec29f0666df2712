// Package fw runs ndnd's NDN forwarder inside this process.
//
// It is the only package of the project that imports ndnd's fw/... packages.
// ndnd keeps the forwarder's state in package-level globals (its config, face
// table, FIB, RIB and forwarding threads), so there can be one forwarder per
// process: New returns ErrOnePerProcess for a second one, even after the
// first is closed, because ndnd leaves state behind that a second start
// would silently share.
//
// The start sequence is this package's own, not ndnd's fw/cmd wrapper: that
// wrapper binds UDP 0.0.0.0:6363 whatever its config says and calls os.Exit.
// Listeners are opened here, synchronously, so a bad address is an error
// returned by Start rather than an exit inside ndnd; faces and link services
// are ndnd's.
//
// Applications in the same process attach through in-process faces (Face):
// no socket, no file, a third of a unix socket's round trip.
package fw
