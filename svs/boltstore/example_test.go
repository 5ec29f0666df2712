package boltstore_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
)

// A member's start and first publication: resume the incarnation the store
// holds (or start one), reserve ahead, store the publication's Data before
// announcing it.
func Example() {
	dir, _ := os.MkdirTemp("", "state")
	defer os.RemoveAll(dir)
	st, err := boltstore.Open(filepath.Join(dir, "store.db"), boltstore.Options{
		StorageConfig: svs.StorageConfig{Own: svs.Retention{MaxCount: 100_000}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	state, _ := st.State()
	boot, next := state.Boot, state.Reserved+1
	if boot == 0 {
		boot = 1_780_000_000 // svs.NewBoot(0, time.Now()), after its wait
	}
	if mark, need := svs.ReserveAhead(next, state.Reserved, 0); need {
		if err := st.Reserve(boot, mark); err != nil { // durable before next is used
			fmt.Println(err)
			return
		}
	}
	data := []byte("the signed Data of /node/group/t=1780000000/seq=1")
	if err := st.PutOwn(svs.Publication{Boot: boot, Seq: next, Segments: [][]byte{data}}); err != nil {
		fmt.Println(err)
		return
	}
	p, _ := st.Own(boot, next)
	state, _ = st.State()
	fmt.Printf("seq %d stored (%d bytes), reserved up to %d\n", p.Seq, p.Size(), state.Reserved)
	// Output: seq 1 stored (49 bytes), reserved up to 1025
}
