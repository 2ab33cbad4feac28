//go:build e2e

package e2e

import (
	"testing"

	"github.com/avschain/avschain/testutil/localnet"
)

func TestMain(m *testing.M) { localnet.Main(m) }
