//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// hackatomPath locates wasmd's hackatom fixture in the Go module cache.
func hackatomPath(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CosmWasm/wasmd")
	cmd.Dir = localnet.RepoRoot()
	out, err := cmd.Output()
	require.NoError(t, err, "go list wasmd module dir")
	p := filepath.Join(strings.TrimSpace(string(out)), "x", "wasm", "keeper", "testdata", "hackatom.wasm")
	_, err = os.Stat(p)
	require.NoError(t, err)
	return p
}

// TestWasmStoreInstantiateQuery stores, instantiates and queries a CosmWasm
// contract on a real avsd node through the CLI, and reads x/avs params from it.
func TestWasmStoreInstantiateQuery(t *testing.T) {
	node := localnet.Start(t, localnet.Options{})

	var params struct {
		Params struct {
			EpochLength string `json:"epoch_length"`
		} `json:"params"`
	}
	node.Query(&params, "avs", "params")
	require.Equal(t, "100", params.Params.EpochLength)

	res := node.Tx("alice", "wasm", "store", hackatomPath(t))
	require.Zero(t, res.Code, res.RawLog)
	codeID := res.Attribute("store_code", "code_id")
	require.NotEmpty(t, codeID, "store_code event with the code id")

	alice, bob := node.KeyAddress("alice"), node.KeyAddress("bob")
	initMsg := fmt.Sprintf(`{"verifier":%q,"beneficiary":%q}`, alice, bob)
	res = node.Tx("alice", "wasm", "instantiate", codeID, initMsg, "--label", "hackatom-e2e", "--no-admin")
	require.Zero(t, res.Code, res.RawLog)
	contract := res.Attribute("instantiate", "_contract_address")
	require.True(t, strings.HasPrefix(contract, "avs1"), "contract address %q", contract)

	var listed struct {
		Contracts []string `json:"contracts"`
	}
	node.Query(&listed, "wasm", "list-contract-by-code", codeID)
	require.Equal(t, []string{contract}, listed.Contracts)

	var smart struct {
		Data json.RawMessage `json:"data"`
	}
	node.Query(&smart, "wasm", "contract-state", "smart", contract, `{"verifier":{}}`)
	require.JSONEq(t, fmt.Sprintf(`{"verifier":%q}`, alice), string(smart.Data))
}
