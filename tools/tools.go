//go:build tools

// Package tools pins the versions of the command-line tools this project builds from source
// (the Go module proxy refuses their version lists, so `go install pkg@vX` cannot fetch them).
// It is its own module so that the relayer's dependency graph never reaches the app's go.mod,
// and `go list ./...` in the main module skips it.
package tools

import (
	_ "github.com/cosmos/relayer/v2"
)
