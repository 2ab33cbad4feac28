// Command avsd is the avschain node and CLI: it runs a validator or full node,
// and sends transactions and queries to one.
package main

import (
	"os"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/cmd/avsd/cmd"
	"github.com/avschain/avschain/cmd/avsd/internal/runner"
)

func main() {
	// runner.Execute has printed the error.
	if err := runner.Execute(cmd.NewRootCmd(), "", app.DefaultNodeHome); err != nil {
		os.Exit(1)
	}
}
