package avs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Environment variables the host sets for every task.
const (
	EnvTaskID      = "AVS_TASK_ID"
	EnvServiceID   = "AVS_SERVICE_ID"
	EnvChainID     = "AVS_CHAIN_ID"
	EnvBlockHeight = "AVS_BLOCK_HEIGHT"
	EnvBlockTime   = "AVS_BLOCK_TIME"
)

// MaxResponseSize is the largest response the host returns (1 MiB); larger
// responses fail with ErrResponseTooLarge.
const MaxResponseSize = 1 << 20

// initialBufSize is the buffer offered on the first host call; a larger
// response costs one more call.
const initialBufSize = 64 << 10

// TaskContext describes the task being run.
type TaskContext struct {
	TaskID      uint64
	ServiceID   uint64
	ChainID     string
	BlockHeight int64
	BlockTime   time.Time
}

// Input reads the whole task input from stdin.
func Input() ([]byte, error) {
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("avs: reading input: %w", err)
	}
	return b, nil
}

// Output writes b to stdout: the component's result.
func Output(b []byte) error {
	if _, err := os.Stdout.Write(b); err != nil {
		return fmt.Errorf("avs: writing output: %w", err)
	}
	return nil
}

// Config returns the value of a key of the service's config map, or "" if
// the key is not set.
func Config(key string) string { return os.Getenv(key) }

// Context returns the task context parsed from the AVS_* environment. It
// fails (see Fail) if a variable is missing or malformed; use ParseContext
// to handle the error yourself.
func Context() TaskContext {
	c, err := ParseContext(os.LookupEnv)
	if err != nil {
		Fail(err)
	}
	return c
}

// ParseContext parses the task context from the AVS_* variables returned by
// lookup (os.LookupEnv in a component).
func ParseContext(lookup func(string) (string, bool)) (TaskContext, error) {
	var c TaskContext
	get := func(k string) (string, error) {
		v, ok := lookup(k)
		if !ok || v == "" {
			return "", fmt.Errorf("avs: %s is not set", k)
		}
		return v, nil
	}
	var errs []error
	if v, err := get(EnvTaskID); err != nil {
		errs = append(errs, err)
	} else if c.TaskID, err = strconv.ParseUint(v, 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("avs: %s=%q is not an unsigned integer", EnvTaskID, v))
	}
	if v, err := get(EnvServiceID); err != nil {
		errs = append(errs, err)
	} else if c.ServiceID, err = strconv.ParseUint(v, 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("avs: %s=%q is not an unsigned integer", EnvServiceID, v))
	}
	if v, err := get(EnvChainID); err != nil {
		errs = append(errs, err)
	} else {
		c.ChainID = v
	}
	if v, err := get(EnvBlockHeight); err != nil {
		errs = append(errs, err)
	} else if c.BlockHeight, err = strconv.ParseInt(v, 10, 64); err != nil || c.BlockHeight < 0 {
		errs = append(errs, fmt.Errorf("avs: %s=%q is not a non-negative integer", EnvBlockHeight, v))
	}
	if v, err := get(EnvBlockTime); err != nil {
		errs = append(errs, err)
	} else if c.BlockTime, err = time.Parse(time.RFC3339Nano, v); err != nil {
		errs = append(errs, fmt.Errorf("avs: %s=%q is not an RFC 3339 time", EnvBlockTime, v))
	}
	if err := errors.Join(errs...); err != nil {
		return TaskContext{}, err
	}
	return c, nil
}

// Log sends a formatted log line to the operator. Logging is best effort.
func Log(format string, args ...any) {
	hostLog(fmt.Sprintf(format, args...))
}

// Fail writes err to stderr and exits with status 1: the operator casts no
// vote for the task.
func Fail(err error) {
	msg := "error"
	if err != nil {
		msg = err.Error()
	}
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

// HTTPGet fetches url (http or https) through the host. The URL's host must
// be on the service's allow-list. Errors from the host are *HostError values
// that match ErrHostNotAllowed, ErrRequestFailed, ErrMalformedRequest or
// ErrResponseTooLarge with errors.Is.
func HTTPGet(url string) ([]byte, error) {
	if !hostAvailable {
		return nil, &HostError{Op: "http_fetch", Target: url, Err: ErrNoHost}
	}
	b, err := callWithRetry(func(buf []byte) int64 { return hostHTTPFetch(url, buf) })
	if err != nil {
		return nil, &HostError{Op: "http_fetch", Target: url, Err: err}
	}
	return b, nil
}

// ChainQuery runs the gRPC query method path (e.g.
// "/avschain.avs.v1.Query/Service") against this chain at the task's
// creation height. The request and the response are proto JSON.
func ChainQuery(path string, reqJSON []byte) ([]byte, error) {
	if !hostAvailable {
		return nil, &HostError{Op: "chain_query", Target: path, Err: ErrNoHost}
	}
	b, err := callWithRetry(func(buf []byte) int64 { return hostChainQuery(path, reqJSON, buf) })
	if err != nil {
		return nil, &HostError{Op: "chain_query", Target: path, Err: err}
	}
	return b, nil
}

// callWithRetry implements the buffer convention of http_fetch and
// chain_query: the call returns the full length n and copies min(n, cap)
// bytes; if n > cap it is called again with an n-byte buffer.
func callWithRetry(call func(buf []byte) int64) ([]byte, error) {
	buf := make([]byte, initialBufSize)
	for attempt := 0; attempt < 3; attempt++ {
		n := call(buf)
		if n < 0 {
			return nil, CodeError(n)
		}
		if n <= int64(len(buf)) {
			return buf[:n], nil
		}
		if n > MaxResponseSize {
			// The host should have returned -4; do not allocate it.
			return nil, ErrResponseTooLarge
		}
		buf = make([]byte, n)
	}
	// The response length changed between calls more than once.
	return nil, ErrResponseUnstable
}
