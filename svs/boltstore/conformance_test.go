package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
	"github.com/ndnsvs/ndnsvs-node/svs/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Opener {
		path := filepath.Join(t.TempDir(), "store.db")
		return func(cfg svs.StorageConfig) (svs.Storage, error) {
			return boltstore.Open(path, boltstore.Options{StorageConfig: cfg})
		}
	})
}
