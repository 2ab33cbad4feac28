// Command template is a minimal avschain component to copy into a
// repository of your own: it answers "<GREETING>, <input>", GREETING being
// a key of the service's config (default "hello"). An empty input is a
// failure: every operator votes it (FAILURE_REASON_EXIT) and the task ends
// FAILED.
//
// Build (README.md):
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags='-s -w' -o template.wasm .
//	avs-sidecar exec --wasm template.wasm --manifest manifest.json --input world
package main

import (
	"errors"
	"strings"

	avs "github.com/avschain/avschain/components/sdk"
)

func main() {
	in, err := avs.Input()
	if err != nil {
		avs.Fail(err)
	}
	name := strings.TrimSpace(string(in))
	if name == "" {
		avs.Fail(errors.New("template: the input is empty"))
	}
	greeting := avs.Config("GREETING")
	if greeting == "" {
		greeting = "hello"
	}
	task := avs.Context()
	avs.Log("template: task %d of service %d at height %d", task.TaskID, task.ServiceID, task.BlockHeight)
	if err := avs.Output([]byte(greeting + ", " + name)); err != nil {
		avs.Fail(err)
	}
}
