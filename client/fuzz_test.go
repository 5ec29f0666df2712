package client

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

// parseAnswer decodes what the node sends while a command waits: it must
// never panic, and what it accepts names a Data or a Nack.
func FuzzParseAnswer(f *testing.F) {
	name, _ := enc.NameFromStr("/localhost/nfd/rib/register/x")
	resp := &mgmt.ControlResponse{Val: &mgmt.ControlResponseVal{StatusCode: 200, StatusText: "OK"}}
	data, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, resp.Encode(), sig.NewSha256Signer())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data.Wire.Join())
	f.Add([]byte{0x05, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x00})
	f.Add([]byte{0x64, 0x08, 0xFD, 0x03, 0x20, 0x00, 0x50, 0x02, 0x05, 0x00})
	f.Add([]byte{0x06, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		// The reader hands over whole frames only.
		if link.Datagram(b, link.MaxPacketSize) != nil {
			return
		}
		name, _, nack, ok := parseAnswer(b)
		if ok && name == nil && nack == 0 {
			t.Errorf("accepted %x with no name", b)
		}
	})
}
