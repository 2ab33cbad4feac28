//go:build !wasip1

package avs

import (
	"errors"
	"testing"
)

// TestNoHostOutsideWasip1 is built where host_other.go is (no skip: CI
// fails on one).
func TestNoHostOutsideWasip1(t *testing.T) {
	_, err := HTTPGet("http://127.0.0.1/")
	if !errors.Is(err, ErrNoHost) {
		t.Errorf("HTTPGet: %v, want ErrNoHost", err)
	}
	_, err = ChainQuery("/avschain.avs.v1.Query/Service", []byte(`{"service_id":"1"}`))
	if !errors.Is(err, ErrNoHost) {
		t.Errorf("ChainQuery: %v, want ErrNoHost", err)
	}
}
