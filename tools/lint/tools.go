//go:build tools

// Package lint pins golangci-lint (v2) for `make lint`. It is its own module,
// apart from tools/ (which pins the relayer and its older dependencies), so the
// two tools' dependency graphs never constrain each other.
package lint

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
)
