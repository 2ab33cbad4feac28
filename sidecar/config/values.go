package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ServiceIDs are the services to run; nil means every service the operator
// is opted in to. In the file and in flags it is "all" or "1,4".
type ServiceIDs []uint64

// UnmarshalText parses "all" or a comma-separated list of service ids.
func (ids *ServiceIDs) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" || s == "all" {
		*ids = nil
		return nil
	}
	var out ServiceIDs
	for _, p := range strings.Split(s, ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return fmt.Errorf("services: %q is not a service id (use \"all\" or \"1,2\")", p)
		}
		out = append(out, id)
	}
	*ids = out
	return nil
}

// MarshalText writes ids as UnmarshalText reads them.
func (ids ServiceIDs) MarshalText() ([]byte, error) { return []byte(ids.String()), nil }

// String is "all" or the comma-separated ids.
func (ids ServiceIDs) String() string {
	if ids == nil {
		return "all"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(parts, ",")
}

// Set returns the ids as a set, or nil for all services.
func (ids ServiceIDs) Set() map[uint64]bool {
	if ids == nil {
		return nil
	}
	out := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// Duration is a time.Duration written as "200ms" in the file and in flags.
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String is the Go duration, e.g. "200ms".
func (d Duration) String() string { return time.Duration(d).String() }

// Secret is a setting that must not be printed (the keyring passphrase).
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }
