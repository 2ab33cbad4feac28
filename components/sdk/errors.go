package avs

import (
	"errors"
	"fmt"
)

// Errors of the host calls, one per negative return code of http_fetch and
// chain_query. Match them with errors.Is.
var (
	// ErrHostNotAllowed (-1): http_fetch to a host not on the service's
	// allow-list, at a non-public address, or redirected off the
	// allow-list; chain_query of a method that is not a Query method; or
	// a call over the run's cap of requests or queries.
	ErrHostNotAllowed = errors.New("not allowed: host not on the service's allow-list or not a Query method")
	// ErrRequestFailed (-2): the HTTP request failed or returned a non-2xx
	// status, or the chain query failed.
	ErrRequestFailed = errors.New("request failed (network error, non-2xx status or failed query)")
	// ErrMalformedRequest (-3): a malformed URL or query request.
	ErrMalformedRequest = errors.New("malformed URL or request")
	// ErrResponseTooLarge (-4): the response is larger than 1 MiB, or than
	// what is left of the run's budget of http_fetch bytes.
	ErrResponseTooLarge = errors.New("response larger than 1 MiB")
	// ErrResponseUnstable: the response length kept changing between the
	// calls of the buffer-retry convention.
	ErrResponseUnstable = errors.New("response length changed between host calls")
	// ErrNoHost: the program is not running under the avs host (a
	// non-wasip1 build).
	ErrNoHost = errors.New("avs host functions are only available in a GOOS=wasip1 component")
)

// Host return codes.
const (
	CodeHostNotAllowed   int64 = -1
	CodeRequestFailed    int64 = -2
	CodeMalformedRequest int64 = -3
	CodeResponseTooLarge int64 = -4
)

// CodeError maps a negative host return code to its error. Unknown codes
// yield an error that names the code.
func CodeError(code int64) error {
	switch code {
	case CodeHostNotAllowed:
		return ErrHostNotAllowed
	case CodeRequestFailed:
		return ErrRequestFailed
	case CodeMalformedRequest:
		return ErrMalformedRequest
	case CodeResponseTooLarge:
		return ErrResponseTooLarge
	default:
		return fmt.Errorf("unknown host error code %d", code)
	}
}

// HostError is the error of HTTPGet and ChainQuery.
type HostError struct {
	Op     string // "http_fetch" or "chain_query"
	Target string // the URL or the query path
	Err    error  // one of the Err* values
}

func (e *HostError) Error() string {
	msg := e.Err.Error()
	if d, ok := opDetail[e.Op][e.Err]; ok {
		msg = d
	}
	return fmt.Sprintf("avs: %s %s: %s", e.Op, e.Target, msg)
}

// opDetail words the shared error codes for each host call.
var opDetail = map[string]map[error]string{
	"http_fetch": {
		ErrHostNotAllowed:   "not allowed: host not on the service's allow-list",
		ErrRequestFailed:    "request failed (network error or non-2xx status)",
		ErrMalformedRequest: "malformed URL (an absolute http or https URL is required)",
	},
	"chain_query": {
		ErrHostNotAllowed:   "not allowed: not a Query method of this chain",
		ErrRequestFailed:    "query failed",
		ErrMalformedRequest: "malformed query path or JSON request",
	},
}

func (e *HostError) Unwrap() error { return e.Err }
