package fw

import (
	"net/netip"
	"time"

	"github.com/named-data/ndnd/std/types/optional"
)

func optionalDur(d time.Duration) optional.Optional[time.Duration] { return optional.Some(d) }

func testAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
