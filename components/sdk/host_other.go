//go:build !wasip1

package avs

import (
	"fmt"
	"os"
)

// Outside wasip1 there is no avs host: Log writes to stderr and the host
// calls fail with ErrNoHost.

func hostLog(msg string) { fmt.Fprintln(os.Stderr, "avs log:", msg) }

const hostAvailable = false

func hostHTTPFetch(string, []byte) int64 { return CodeRequestFailed }

func hostChainQuery(string, []byte, []byte) int64 { return CodeRequestFailed }
