package security

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// TLV types of a Data's signed fields.
const (
	tData       = 0x06
	tName       = 0x07
	tMetaInfo   = 0x14
	tContent    = 0x15
	tSigInfo    = 0x16
	tSigValue   = 0x17
	tSigType    = 0x1b
	tKeyLocator = 0x1c
)

// newTrust returns a Trust for each signer type, for a member /g/alice.
func newTrust(t *testing.T, w *world, typ string) *Trust {
	t.Helper()
	var cfg Config
	switch typ {
	case "digest":
		cfg = Config{}
	case "hmac":
		cfg = Config{Signer: "hmac", HMACKey: bytes.Repeat([]byte{0x5a}, 32)}
	default:
		f, _ := w.member(t, typ, "/g/alice")
		cfg = w.config(t, typ, f)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", typ, err)
	}
	return tr
}

func reasonOf(err error) Reason {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason
	}
	return 0
}

// TestSignValidateTamper: every signer's Data validates, and a flip of
// one byte in any signed field is refused for the right reason.
func TestSignValidateTamper(t *testing.T) {
	w := newWorld(t)
	for _, typ := range []string{"digest", "ed25519", "ecdsa", "rsa", "hmac"} {
		t.Run(typ, func(t *testing.T) {
			tr := newTrust(t, w, typ)
			name := mustName(t, "/g/v=3")
			s, err := tr.Signer(name)
			if err != nil {
				t.Fatal(err)
			}
			raw := makeData(t, name, []byte("state vector"), s)
			if err := tr.Validate(parse(t, raw)); err != nil {
				t.Fatalf("untouched: %v", err)
			}
			type flip struct {
				field string
				path  []uint64
				at    int // offset in the value; -1 = last byte
				want  Reason
			}
			flips := []flip{
				{"name (version)", []uint64{tData, tName}, -1, ReasonBadSignature},
				{"name (group)", []uint64{tData, tName}, 2, ReasonBadSignature},
				{"MetaInfo", []uint64{tData, tMetaInfo}, -1, ReasonBadSignature},
				{"content", []uint64{tData, tContent}, 0, ReasonBadSignature},
				{"SignatureType", []uint64{tData, tSigInfo, tSigType}, 0, ReasonSignatureType},
				{"SignatureValue", []uint64{tData, tSigValue}, -1, ReasonBadSignature},
			}
			if tr.Mode() == ModeChain {
				// /f is outside the schema: refused before the signature.
				flips[1].want = ReasonSchema
				flips = append(flips,
					flip{"KeyLocator (issuer)", []uint64{tData, tSigInfo, tKeyLocator, tName}, -1, ReasonUnknownKey},
					flip{"KeyLocator (KEY)", []uint64{tData, tSigInfo, tKeyLocator, tName}, 4, ReasonNoKeyLocator},
				)
			}
			for _, f := range flips {
				s, e := tlv(t, raw, f.path...)
				at := s + f.at
				if f.at < 0 {
					at = e - 1
				}
				bad := bytes.Clone(raw)
				bad[at] ^= 0x80
				if f.field == "KeyLocator (KEY)" {
					// the value of the KeyLocator name's second component
					bad = bytes.Clone(raw)
					ks, _ := keyComponent(t, raw)
					bad[ks] ^= 0x01
				}
				err := tr.Validate(parse(t, bad))
				if got := reasonOf(err); got != f.want {
					t.Errorf("%s flipped: %v (reason %v), want %v", f.field, err, got, f.want)
				}
				var pe *wire.PendingError
				if errors.As(err, &pe) {
					t.Errorf("%s flipped: pending without a fetcher", f.field)
				}
			}
			st := tr.Stats()
			if st.Accepted != 1 {
				t.Errorf("Accepted = %d, want 1", st.Accepted)
			}
		})
	}
}

// keyComponent returns the offset of the value of the "KEY" component in
// raw's KeyLocator name.
func keyComponent(t *testing.T, raw []byte) (int, int) {
	t.Helper()
	s, e := tlv(t, raw, tData, tSigInfo, tKeyLocator, tName)
	i := bytes.Index(raw[s:e], []byte{0x08, 0x03, 'K', 'E', 'Y'})
	if i < 0 {
		t.Fatal("no KEY component in the KeyLocator")
	}
	return s + i + 2, s + i + 5
}

// TestModeRefusals: each mode refuses the other modes' signatures with
// the reason a metric should show.
func TestModeRefusals(t *testing.T) {
	w := newWorld(t)
	ed := key(t, "ed25519", "/g/alice")
	signers := map[string]ndn.Signer{
		"digest":    signer.NewSha256Signer(),
		"hmac":      signer.NewHmacSigner(bytes.Repeat([]byte{0x5a}, 32)),
		"otherhmac": signer.NewHmacSigner(bytes.Repeat([]byte{0xa5}, 32)),
		"ed25519":   ed,
		"null":      nullSigner{},
	}
	want := map[string]map[string]Reason{
		"digest": {"digest": 0, "hmac": ReasonSignatureType, "otherhmac": ReasonSignatureType, "ed25519": ReasonSignatureType, "null": ReasonUnsigned},
		"hmac":   {"digest": ReasonUnsigned, "hmac": 0, "otherhmac": ReasonBadSignature, "ed25519": ReasonSignatureType, "null": ReasonUnsigned},
	}
	for mode, cases := range want {
		tr := newTrust(t, w, mode)
		for sname, r := range cases {
			err := tr.Validate(parse(t, makeData(t, mustName(t, "/g/v=3"), nil, signers[sname])))
			if reasonOf(err) != r || r == 0 && err != nil {
				t.Errorf("%s mode, %s signature: %v, want %v", mode, sname, err, r)
			}
		}
	}
}

// TestReasons: every reason has its own metric label.
func TestReasons(t *testing.T) {
	if len(Reasons) != int(reasonEnd)-1 {
		t.Fatalf("Reasons lists %d of %d", len(Reasons), int(reasonEnd)-1)
	}
	seen := map[string]bool{}
	for _, r := range Reasons {
		s := r.String()
		if s == "" || seen[s] || strings.ContainsAny(s, " -") {
			t.Errorf("label %q of %d", s, r)
		}
		seen[s] = true
	}
	e := &RejectError{Reason: ReasonExpired, Err: errors.New("x")}
	if !strings.Contains(e.Error(), "expired") || errors.Unwrap(e).Error() != "x" {
		t.Error(e)
	}
}
