package svs_test

import (
	"errors"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/storagetest"
)

func TestMemoryStorageConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Opener {
		var last *svs.MemoryStorage
		return func(cfg svs.StorageConfig) (svs.Storage, error) {
			var err error
			if last == nil {
				last, err = svs.NewMemoryStorage(cfg)
			} else {
				last, err = last.Reopen(cfg)
			}
			return last, err
		}
	})
}

// TestMemoryStorageReopenIsACrash: Reopen of a handle that was never
// closed keeps everything written (a write returned means committed) and
// leaves the old handle unusable, as a crashed process's would be.
func TestMemoryStorageReopenIsACrash(t *testing.T) {
	m, err := svs.NewMemoryStorage(svs.StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reserve(5, 10); err != nil {
		t.Fatal(err)
	}
	p := svs.Publication{Boot: 5, Seq: 3, Segments: [][]byte{[]byte("x")}}
	if err := m.PutOwn(p); err != nil {
		t.Fatal(err)
	}
	m2, err := m.Reopen(svs.StorageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Own(5, 3); err != nil {
		t.Fatalf("Own after a crash: %v", err)
	}
	if err := m.Reserve(5, 11); !errors.Is(err, svs.ErrStorageClosed) {
		t.Fatalf("old handle Reserve: %v, want ErrStorageClosed", err)
	}
	if _, err := m.Reopen(svs.StorageConfig{}); !errors.Is(err, svs.ErrStorageClosed) {
		t.Fatalf("second Reopen of one handle: %v, want ErrStorageClosed", err)
	}
}

func TestMemoryStorageInvalidConfig(t *testing.T) {
	for _, cfg := range []svs.StorageConfig{
		{Own: svs.Retention{MaxCount: -1}},
		{Fetched: svs.Retention{MaxAge: -1}},
		{Own: svs.Retention{MaxBytes: -1}},
	} {
		if _, err := svs.NewMemoryStorage(cfg); !errors.Is(err, svs.ErrInvalidConfig) {
			t.Errorf("NewMemoryStorage(%+v): %v, want ErrInvalidConfig", cfg, err)
		}
	}
}
