package chain_test

import (
	"testing"

	"github.com/avschain/avschain/testutil/localnet"
)

func TestMain(m *testing.M) { localnet.Main(m) }
