package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// parseHostPort parses host:port where host is a literal IPv4 address or a
// bracketed literal IPv6 address (a zone is allowed) and port is decimal in
// 1..65535, or 0 when zeroPort is true. Host names are refused: name
// resolution is not guaranteed where the node runs, and a name that
// resolves differently at each start makes a bad listener.
func parseHostPort(s string, zeroPort bool) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, errors.New("empty address: want host:port such as 0.0.0.0:6363 or [::]:6363")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return netip.AddrPort{}, errors.New("an IPv6 address must be in brackets: [addr]:port")
		}
		return netip.AddrPort{}, errors.New("want host:port such as 0.0.0.0:6363 or [::]:6363")
	}
	if host == "" {
		return netip.AddrPort{}, errors.New("missing host: write 0.0.0.0 or [::] to mean every address")
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, errors.New("host must be a literal IP address, not a host name")
	}
	bracketed := strings.HasPrefix(s, "[")
	if addr.Is4() && bracketed {
		return netip.AddrPort{}, errors.New("an IPv4 address must not be in brackets")
	}
	if port == "" {
		return netip.AddrPort{}, errors.New("missing port")
	}
	if !allDigits(port) {
		return netip.AddrPort{}, errors.New("port must be a decimal number")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, errors.New("port out of range")
	}
	if p == 0 && !zeroPort {
		return netip.AddrPort{}, errors.New("port 0 is not allowed here")
	}
	return netip.AddrPortFrom(addr, uint16(p)), nil
}

// parseListen parses a listen address; port 0 asks the system for a free
// port. Multicast addresses are refused.
func parseListen(s string) (netip.AddrPort, error) {
	ap, err := parseHostPort(s, true)
	if err != nil {
		return ap, err
	}
	if ap.Addr().IsMulticast() {
		return ap, errors.New("a listen address must not be a multicast address")
	}
	return ap, nil
}

// parseMulticastGroup parses faces.multicast.group.
func parseMulticastGroup(s string) (netip.AddrPort, error) {
	ap, err := parseHostPort(s, false)
	if err != nil {
		return ap, err
	}
	if !ap.Addr().Is4() || !ap.Addr().IsMulticast() {
		return ap, errors.New("not an IPv4 multicast address (224.0.0.0/4)")
	}
	return ap, nil
}

// neighborSchemes are the face URI schemes a [[neighbor]] may use.
var neighborSchemes = []string{"udp4", "udp6", "tcp4", "tcp6"}

// faceURI is a parsed neighbour URI: a literal address, or a DNS name
// (host, lower case) and a port.
type faceURI struct {
	scheme string
	addr   netip.AddrPort
	host   string
	port   uint16
}

// parseFaceURI parses a neighbour URI: udp4://ip:port, udp6://[ip]:port,
// tcp4://ip:port or tcp6://[ip]:port, with a literal unicast IP address or
// a DNS name (resolved by the node, again and again: a Kubernetes or
// compose service name), a port in 1..65535, and nothing else (no user,
// path, query or fragment).
func parseFaceURI(s string) (faceURI, error) {
	if s == "" {
		return faceURI{}, errors.New("empty URI: want udp4://ip:port, udp6://[ip]:port, tcp4://ip:port or tcp6://[ip]:port")
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return faceURI{}, errors.New("want scheme://host:port with scheme udp4, udp6, tcp4 or tcp6")
	}
	known := false
	for _, k := range neighborSchemes {
		known = known || scheme == k
	}
	if !known {
		return faceURI{}, fmt.Errorf("unknown scheme %s: want udp4, udp6, tcp4 or tcp6", quote(scheme))
	}
	if i := strings.IndexAny(rest, "/?#@"); i >= 0 {
		return faceURI{}, fmt.Errorf("unexpected %q: a neighbour URI is scheme://host:port only", rest[i])
	}
	if host, port, ok := dnsHostPort(rest); ok {
		if err := checkDNSName(host); err != nil {
			return faceURI{}, err
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return faceURI{}, fmt.Errorf("port %s: want 1 to 65535", quote(port))
		}
		return faceURI{scheme: scheme, host: strings.ToLower(host), port: uint16(p)}, nil
	}
	ap, err := parseHostPort(rest, false)
	if err != nil {
		return faceURI{}, err
	}
	a := ap.Addr()
	switch {
	case strings.HasSuffix(scheme, "4") && !a.Is4():
		return faceURI{}, fmt.Errorf("%s needs an IPv4 address", scheme)
	case strings.HasSuffix(scheme, "6") && !a.Is6():
		return faceURI{}, fmt.Errorf("%s needs an IPv6 address", scheme)
	case strings.HasSuffix(scheme, "6") && a.Is4In6():
		return faceURI{}, fmt.Errorf("IPv4-mapped address: use %s4 with the IPv4 address", scheme[:3])
	case a.IsUnspecified(), a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return faceURI{}, errors.New("a neighbour needs a unicast address")
	}
	return faceURI{scheme: scheme, addr: ap}, nil
}

// dnsHostPort splits host:port when host is meant as a DNS name: not in
// brackets, and not made of digits and dots only (a malformed IPv4
// address stays one, and gets the address's error).
func dnsHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || strings.HasPrefix(s, "[") {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if strings.Trim(host, "0123456789.") == "" || strings.Contains(host, ":") {
		return "", "", false
	}
	return host, port, true
}

// checkDNSName checks a host name as RFC 1123 has it: dot-separated labels
// of 1 to 63 letters, digits and hyphens, not starting or ending with a
// hyphen, 253 bytes at most, with one trailing dot allowed.
func checkDNSName(h string) error {
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("host name %s: want 1 to 253 bytes", quote(h))
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host name %s: label %s: want 1 to 63 letters, digits or inner hyphens", quote(h), quote(label))
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("host name %s: %q is not a letter, digit or hyphen", quote(h), c)
			}
		}
	}
	return nil
}

// parseMode parses faces.unix.mode: "0" and three octal digits, between
// 0600 and 0777, without write permission for others (anyone on the host
// could then inject packets as a local application).
func parseMode(s string) (os.FileMode, error) {
	if len(s) != 4 || s[0] != '0' {
		return 0, errors.New(`want four octal digits such as "0660"`)
	}
	m, err := strconv.ParseUint(s[1:], 8, 32)
	if err != nil {
		return 0, errors.New(`want four octal digits such as "0660"`)
	}
	if m < 0o600 {
		return 0, errors.New("the owner needs read and write permission: want 0600 to 0777")
	}
	if m&0o002 != 0 {
		return 0, errors.New("must not let others write (any local user could connect as an application)")
	}
	return os.FileMode(m), nil
}

// maxIfaceNameLen is IFNAMSIZ (16) minus the terminating NUL on Linux.
const maxIfaceNameLen = 15

// checkIfaceName checks that s can be a network interface name. Whether the
// interface exists is checked at start-up, not here.
func checkIfaceName(s string) error {
	switch {
	case s == "":
		return errors.New("empty interface name")
	case len(s) > maxIfaceNameLen:
		return fmt.Errorf("interface name longer than %d bytes", maxIfaceNameLen)
	case s == "." || s == "..":
		return errors.New("not an interface name")
	case strings.ContainsAny(s, "/: \t\n\r\x00"):
		return errors.New("an interface name has no '/', ':' or white space")
	}
	return nil
}
