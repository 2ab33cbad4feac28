// Command avs-sidecar is the avschain operator's process: it watches the chain
// for tasks, runs each service's WASI component in wazero and votes the result.
//
//	avs-sidecar init [--home DIR]        write a commented config file
//	avs-sidecar start [--home DIR]       run (flags and AVS_SIDECAR_* override the file)
//	avs-sidecar exec --wasm F --input X  run a component locally, no chain
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "avs-sidecar:", err)
		os.Exit(1)
	}
}
