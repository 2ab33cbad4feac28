// Command square is an example avschain component: it reads a decimal
// integer from the task input (surrounding whitespace ignored) and writes its
// square in decimal, without a trailing newline. Input that is not an
// integer is an error (exit status 1: each operator votes the failure,
// FAILURE_REASON_EXIT, and the task ends FAILED). For a task an event trigger
// opened, the integer is the value of the event's attribute named by the
// service config key "event_attribute" (default "data").
//
// Build: GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags='-s -w' -o square.wasm .
package main

import (
	"fmt"
	"math/big"
	"strings"

	avs "github.com/avschain/avschain/components/sdk"
)

func main() {
	in, err := avs.Input()
	if err != nil {
		avs.Fail(err)
	}
	if ev, ok := avs.ParseTriggerEvent(in); ok {
		name := avs.Config("event_attribute")
		if name == "" {
			name = "data"
		}
		v, found := ev.Attr(name)
		if !found {
			avs.Fail(fmt.Errorf("square: event %s has no attribute %q", ev.Event.Type, name))
		}
		in = []byte(v)
	}
	s := strings.TrimSpace(string(in))
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		avs.Fail(fmt.Errorf("square: input %q is not a decimal integer", truncate(s, 64)))
	}
	if err := avs.Output([]byte(n.Mul(n, n).String())); err != nil {
		avs.Fail(err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
