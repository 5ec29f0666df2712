// Package secinterop holds only tests: a secured sync group shared by
// ndnd v1.5.3's own std/sync.SvSync and this project's svs members, on the
// real in-process forwarder.
//
// The ndnd member is secured the way an ndnd application is: an object
// client built with a sec.TrustConfig over a KeyChainMem (the trust anchor,
// its own key and certificate) and a LightVerSec schema. Ours sign and
// validate with the security package. Certificates are not preloaded:
// every member serves its own certificate on its own face and fetches the
// others' through the forwarder. The tests show that both kinds learn each
// other's sequence numbers, that a member whose key the schema does not
// allow is refused by both, and that a DigestSha256-signed vector is
// refused by both.
//
// TestNDNtsSecured adds an NDNts @ndn/svs member (testdata/secure-peer.mjs,
// a node process on the forwarder's unix socket, skipped unless
// internal/interop/ndnts's packages are installed) that signs with an
// Ed25519 key and checks with a verifier of the members' certificates.
//
// The tests are built without -race only: ndnd v1.5.3's SvSync has data
// races of its own (see svs/interop_test.go).
package secinterop
