package security

import (
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/named-data/ndnd/std/utils"
)

// DefaultCertLifetime is the InterestLifetime of certificate fetches
// (EngineFetcher): a fetch holds the packets that wait for it, so it
// should end well within a group's next Sync Interest rather than ndnd's
// default 4 s.
const DefaultCertLifetime = time.Second

// EngineFetcher fetches certificates with an ndnd engine: an Interest for
// the name (CanBePrefix, MustBeFresh) through the engine's face.
type EngineFetcher struct {
	Engine ndn.Engine
	// Lifetime is the Interest lifetime; 0 means DefaultCertLifetime.
	Lifetime time.Duration
}

// FetchCert implements Fetcher.
func (f EngineFetcher) FetchCert(name enc.Name, done func([]byte, error)) {
	life := f.Lifetime
	if life <= 0 {
		life = DefaultCertLifetime
	}
	intr, err := f.Engine.Spec().MakeInterest(name, &ndn.InterestConfig{
		CanBePrefix: true,
		MustBeFresh: true,
		Lifetime:    optional.Some(life),
		Nonce:       utils.ConvertNonce(f.Engine.Timer().Nonce()),
	}, nil, nil)
	if err != nil {
		done(nil, err)
		return
	}
	err = f.Engine.Express(intr, func(a ndn.ExpressCallbackArgs) {
		switch a.Result {
		case ndn.InterestResultData:
			done(a.RawData.Join(), nil)
		case ndn.InterestResultNack:
			done(nil, fmt.Errorf("nacked (reason %d)", a.NackReason))
		case ndn.InterestResultTimeout:
			done(nil, fmt.Errorf("no answer within %v", life))
		default:
			done(nil, fmt.Errorf("fetch failed: %v", a.Error))
		}
	})
	if err != nil {
		done(nil, err)
	}
}

// Serve makes the engine e answer Interests for t's own certificates,
// each key name /<id>/KEY/<kid> routed to e with register, and makes t
// fetch the certificates it needs with e (EngineFetcher). It returns the
// names of the certificates served.
func Serve(e ndn.Engine, t *Trust, register func(enc.Name) error) ([]enc.Name, error) {
	var served []enc.Name
	for _, c := range t.chain {
		key, err := sec.GetKeyNameFromCertName(c.name)
		if err != nil {
			return nil, fmt.Errorf("security: own certificate %s: %w", c.name, err)
		}
		if err := e.AttachHandler(key, func(args ndn.InterestHandlerArgs) {
			i := args.Interest
			if raw := t.Lookup(i.Name(), i.CanBePrefix()); raw != nil {
				_ = args.Reply(enc.Wire{raw})
			}
		}); err != nil {
			return nil, fmt.Errorf("security: serve certificate %s: %w", key, err)
		}
		if err := register(key); err != nil {
			return nil, fmt.Errorf("security: route certificate %s: %w", key, err)
		}
		served = append(served, c.name.Clone())
	}
	t.SetFetcher(EngineFetcher{Engine: e})
	return served, nil
}
