// Command hostcheck is a test guest that exercises every call of the SDK
// under wazero (see components_test.go); it is built by the test, not
// committed as .wasm. Its input is a line-separated list of commands; it
// writes one result line per command.
//
//	context              the parsed task context
//	config KEY           the value of a config key
//	log TEXT             sends TEXT to the host's log
//	http URL             HTTPGet: "ok <len> <sha-ish prefix>" or "err <error>"
//	query PATH JSON      ChainQuery: the response, or "err <error>"
//	time                 time.Now() as RFC 3339
package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	avs "github.com/avschain/avschain/components/sdk"
)

func main() {
	in, err := avs.Input()
	if err != nil {
		avs.Fail(err)
	}
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(in)), "\n") {
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "context":
			c := avs.Context()
			fmt.Fprintf(&out, "%d %d %s %d %s\n", c.TaskID, c.ServiceID, c.ChainID, c.BlockHeight, c.BlockTime.UTC().Format(time.RFC3339))
		case "config":
			fmt.Fprintf(&out, "%s\n", avs.Config(arg))
		case "log":
			avs.Log("hostcheck: %s", arg)
			out.WriteString("logged\n")
		case "http":
			b, err := avs.HTTPGet(arg)
			out.WriteString(describe(b, err))
		case "query":
			path, req, _ := strings.Cut(arg, " ")
			b, err := avs.ChainQuery(path, []byte(req))
			out.WriteString(describe(b, err))
		case "time":
			fmt.Fprintf(&out, "%s\n", time.Now().UTC().Format(time.RFC3339))
		default:
			avs.Fail(fmt.Errorf("hostcheck: unknown command %q", cmd))
		}
	}
	if err := avs.Output([]byte(out.String())); err != nil {
		avs.Fail(err)
	}
}

func describe(b []byte, err error) string {
	if err != nil {
		name := "other"
		for _, e := range []struct {
			n string
			e error
		}{
			{"ErrHostNotAllowed", avs.ErrHostNotAllowed},
			{"ErrRequestFailed", avs.ErrRequestFailed},
			{"ErrMalformedRequest", avs.ErrMalformedRequest},
			{"ErrResponseTooLarge", avs.ErrResponseTooLarge},
		} {
			if errors.Is(err, e.e) {
				name = e.n
			}
		}
		var he *avs.HostError
		if !errors.As(err, &he) {
			name += " (not a *HostError)"
		}
		return fmt.Sprintf("err %s: %v\n", name, err)
	}
	if len(b) > 200 {
		return fmt.Sprintf("ok %d bytes %s...%s\n", len(b), b[:20], b[len(b)-20:])
	}
	return fmt.Sprintf("ok %s\n", b)
}
