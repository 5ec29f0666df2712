package config

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NodeIDFile is the file in the state directory that holds the id of the
// node's default name.
const NodeIDFile = "node-id"

// nodeIDLen is the length of a node id: 10 base32 characters, 50 random
// bits. Two of 1024 members (sync.max_members' default) share an id with a
// probability of about 5e-10, and the name stays short: it is repeated in
// every Sync Interest of every group.
const nodeIDLen = 10

// nodeIDEncoding is lower-case base32 without padding: every character is
// an unreserved NDN URI character, so the id needs no escaping.
var nodeIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewNodeID returns a fresh random node id.
func NewNodeID() (string, error) {
	var b [7]byte // 56 bits, cut to 50 by the length
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return nodeIDEncoding.EncodeToString(b[:])[:nodeIDLen], nil
}

// checkNodeID checks an id read back from the state directory.
func checkNodeID(id string) error {
	if len(id) != nodeIDLen {
		return fmt.Errorf("%d characters, want %d", len(id), nodeIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return fmt.Errorf("%q is not a base32 character", c)
		}
	}
	return nil
}

// ReadNodeID returns the node id kept in dir. It returns an error matching
// fs.ErrNotExist when there is none yet, and an error naming the file when
// it cannot be read or does not hold an id.
func ReadNodeID(dir string) (string, error) {
	path := filepath.Join(dir, NodeIDFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if err := checkNodeID(id); err != nil {
		return "", fmt.Errorf("%s does not hold a node id (%v): remove it to make a new one, which renames the node", path, err)
	}
	return id, nil
}

// EnsureNodeID returns the node id kept in dir, making dir (mode 0700) and
// the id file (mode 0600) first when there is none. Two processes that
// race to make it agree on the id the first of them wrote.
func EnsureNodeID(dir string) (string, error) {
	id, err := ReadNodeID(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	id, err = NewNodeID()
	if err != nil {
		return "", err
	}
	// Written to a temporary file and linked into place, so that no reader
	// ever sees a partial id and an existing id is never replaced.
	tmp, err := os.CreateTemp(dir, NodeIDFile+".tmp*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(id + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), filepath.Join(dir, NodeIDFile)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ReadNodeID(dir)
		}
		return "", err
	}
	return id, nil
}

// NodeName returns the node's name: node.name when set; else
// DefaultNodeName of the host name and the id kept in the state directory,
// which is made on first use. Errors carry the key node.state_dir.
func (c Config) NodeName() (string, error) {
	if c.Node.Name != "" {
		return c.Node.Name, nil
	}
	dir, err := c.StateDir()
	if err != nil {
		return "", err
	}
	id, err := EnsureNodeID(dir)
	if err != nil {
		return "", &Error{Key: "node.state_dir", Reason: fmt.Sprintf("%s: keeping the node's id: %v", quote(dir), err)}
	}
	host, _ := os.Hostname() // "" becomes localhost
	return DefaultNodeName(host, id), nil
}
