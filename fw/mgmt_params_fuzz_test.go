package fw

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
)

// The ControlParameters of a management command (a name component, from
// a local or TCP client) are read by ndnd's mgmt_2022 decoder, which the
// guard calls (params): whatever the bytes, it returns or panics (params
// recovers), and never allocates what the bytes only claim (a fuzzer
// process that did would die, and fail the target).
func FuzzControlParameters(f *testing.F) {
	name, _ := enc.NameFromStr("/ndn/svs")
	f.Add((&mgmt.ControlParameters{Val: &mgmt.ControlArgs{Name: name}}).Encode().Join())
	f.Add([]byte{0x68, 0x08, 0x07, 0xfe, 0x7f, 0xff, 0xff, 0xff, 0x08, 0x00})
	f.Add([]byte{0x68, 0x0a, 0x6b, 0x08, 0x07, 0xfe, 0x7f, 0xff, 0xff, 0xff, 0x08, 0x00})
	f.Add([]byte{0x68, 0x07, 0x72, 0xfe, 0x7f, 0xff, 0xff, 0xff, 'u'})
	f.Fuzz(func(t *testing.T, b []byte) {
		defer func() { _ = recover() }()
		_, _ = mgmt.ParseControlParameters(enc.NewBufferView(b), true)
	})
}
