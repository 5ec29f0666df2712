package config

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
)

// maxGroupNameLen is the longest group name accepted: glibc's and
// shadow-utils' default limit (GROUP_NAME_MAX_LENGTH).
const maxGroupNameLen = 32

// checkGroupSpelling checks faces.unix.group without asking the system:
// "" (no change), a numeric id, or a name in the portable character set
// (letters, digits, '.', '_', '-', not starting with '-'), optionally ending
// in '$' as Samba's machine accounts do.
func checkGroupSpelling(g string) error {
	if g == "" {
		return nil
	}
	if isDigits(g) {
		if _, err := strconv.ParseUint(g, 10, 31); err != nil {
			return errors.New("group id out of range 0..2147483647")
		}
		return nil
	}
	if len(g) > maxGroupNameLen {
		return fmt.Errorf("longer than %d bytes", maxGroupNameLen)
	}
	if g[0] == '-' {
		return errors.New("a group name cannot start with '-'")
	}
	for i := 0; i < len(g); i++ {
		c := g[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' ||
			c == '$' && i == len(g)-1
		if !ok {
			return fmt.Errorf("%q is not allowed in a group name (want a name of letters, digits, '.', '_', '-', or a numeric id)", c)
		}
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// UnixGroupID resolves faces.unix.group to a group id: ok is false when the
// key is empty (the socket keeps the process's group). A numeric value is
// taken as an id without a look-up, as chgrp does, so a group that only a
// container's runtime knows can be named; a name must exist in the group
// database. Errors carry the key faces.unix.group.
func (c Config) UnixGroupID() (gid int, ok bool, err error) {
	g := c.Faces.Unix.Group
	if g == "" {
		return 0, false, nil
	}
	if err := checkGroupSpelling(g); err != nil {
		return 0, false, &Error{Key: "faces.unix.group", Reason: quote(g) + ": " + err.Error()}
	}
	if isDigits(g) {
		n, _ := strconv.Atoi(g) // checked above: fits in 31 bits
		return n, true, nil
	}
	grp, err := user.LookupGroup(g)
	if err != nil {
		var unknown user.UnknownGroupError
		if errors.As(err, &unknown) {
			return 0, false, &Error{Key: "faces.unix.group", Reason: quote(g) + ": no such group on this machine"}
		}
		return 0, false, &Error{Key: "faces.unix.group", Reason: quote(g) + ": " + err.Error()}
	}
	n, err := strconv.Atoi(grp.Gid)
	if err != nil {
		return 0, false, &Error{Key: "faces.unix.group", Reason: fmt.Sprintf("%s: group id %q is not a number", quote(g), grp.Gid)}
	}
	return n, true, nil
}
