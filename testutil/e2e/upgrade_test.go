//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/app"
	"github.com/avschain/avschain/testutil/localnet"
)

// TestGovernedUpgrade runs a chain on the previous release's avsd
// (localnet.PreviousRelease, built by scripts/build-release.sh), gives it x/avs
// state (a service, a completed task with its votes, a commitment), and
// upgrades it the way a live network does: a governance proposal schedules
// app.UpgradeName at a height, the validator votes for it, the node halts at
// that height (x/upgrade writes upgrade-info.json, as cosmovisor watches
// for), and this tree's avsd continues from the same home. The upgrade
// handler runs x/avs's migration 1 → 2: the module version is 2, the new
// params max_tasks_per_msg and max_commit_blocks have their defaults, MsgCreateTasks works, and the state
// made before the upgrade reads the same after it; the interchain accounts
// host is added, enabled with the allow-list; a task created and voted
// on once before the upgrade completes with the second vote after it. About
// 110 s (most of it the 20 s voting period and the blocks up to the upgrade
// height); building the previous release, when build/ has none, adds about a
// minute.
func TestGovernedUpgrade(t *testing.T) {
	oldBin, newBin := localnet.PreviousBinary(t), localnet.Binary(t)
	node := localnet.Start(t, localnet.Options{ChainID: "avs-upgrade-1", Binary: oldBin})

	// State made by the previous release.
	digest := storeComponent(t, node, component("square"))
	svc := createService(t, node, manifest{Name: "square", Digest: digest, Timeout: 10})
	optIn(t, node, svc, "operator1", "operator2")
	// a service whose task, created before the upgrade, completes after it
	long := createService(t, node, manifest{Name: "square-long", Digest: digest, Timeout: 200})
	optIn(t, node, long, "operator1", "operator2")
	task := createTask(t, node, svc, "4")
	for _, op := range []string{"operator1", "operator2"} {
		res := node.Tx(op, "avs", "submit-results", task, "16")
		require.Zero(t, res.Code, res.RawLog)
	}
	require.Equal(t, "TASK_STATUS_COMPLETED", waitTask(t, node, task, 30*time.Second).Status)
	res := node.Tx("carol", "avs", "commit", node.KeyAddress("operator1"), svc, "2000000uavs")
	require.Zero(t, res.Code, res.RawLog)
	waitSettled(t, node, task) // so that nothing of it moves with blocks any more
	before := avsState(t, node, svc, task)
	require.Equal(t, 1, moduleVersion(t, node, "avs"), "the previous release runs x/avs version 1")

	// The proposal, and the validator's vote.
	h, err := node.Height()
	require.NoError(t, err)
	upgradeHeight := h + 40 // past the 20 s voting period (scripts/localnet.sh) at 1 s blocks
	res = node.Tx("validator", "upgrade", "software-upgrade", app.UpgradeName,
		"--upgrade-height", strconv.FormatInt(upgradeHeight, 10), "--no-validate",
		"--title", "avschain "+app.UpgradeName, "--summary", "x/avs consensus version 2", "--deposit", "10000000uavs")
	require.Zero(t, res.Code, res.RawLog)
	proposal := res.Attribute("submit_proposal", "proposal_id")
	require.NotEmpty(t, proposal)
	res = node.Tx("validator", "gov", "vote", proposal, "yes")
	require.Zero(t, res.Code, res.RawLog)
	localnet.Poll(t, 60*time.Second, "proposal "+proposal+": passed", func() (string, error) {
		var p struct {
			Proposal struct {
				Status string `json:"status"`
			} `json:"proposal"`
		}
		node.Query(&p, "gov", "proposal", proposal)
		if p.Proposal.Status != "PROPOSAL_STATUS_PASSED" {
			return p.Proposal.Status, fmt.Errorf("status %s", p.Proposal.Status)
		}
		return p.Proposal.Status, nil
	})

	node.WaitHeight(upgradeHeight-8, 60*time.Second)
	pending := createTask(t, node, long, "7")
	res = node.Tx("operator1", "avs", "submit-results", pending, "49")
	require.Zero(t, res.Code, res.RawLog)
	require.Equal(t, "TASK_STATUS_PENDING", getTask(node, pending).Status, "one of two votes")

	// The previous release halts at the height and says which upgrade it needs.
	info := filepath.Join(node.Home, "data", "upgrade-info.json")
	localnet.Poll(t, 90*time.Second, "upgrade-info.json at the upgrade height", func() (string, error) {
		bz, err := os.ReadFile(info)
		if err != nil {
			return "", err
		}
		var plan struct {
			Name   string `json:"name"`
			Height int64  `json:"height"`
		}
		if err := json.Unmarshal(bz, &plan); err != nil {
			return "", err
		}
		if plan.Name != app.UpgradeName || plan.Height != upgradeHeight {
			t.Fatalf("upgrade-info.json names %s at %d, expected %s at %d", plan.Name, plan.Height, app.UpgradeName, upgradeHeight)
		}
		return plan.Name, nil
	})
	require.Equal(t, upgradeHeight-1, appHeight(t, node), "the previous release executes no block at the upgrade height")
	node.Stop()

	// This tree's avsd continues from the same home.
	node.Bin = newBin
	node.Restart()
	node.WaitHeight(upgradeHeight+2, 60*time.Second)
	var applied struct {
		Height string `json:"height"`
	}
	require.NoError(t, node.REST("/cosmos/upgrade/v1beta1/applied_plan/"+app.UpgradeName, &applied))
	require.Equal(t, strconv.FormatInt(upgradeHeight, 10), applied.Height)
	require.Equal(t, 2, moduleVersion(t, node, "avs"))

	after := avsState(t, node, svc, task)
	// the migration sets the new params' defaults, which the previous release lacks
	for name, want := range map[string]any{"max_tasks_per_msg": 1000, "max_commit_blocks": "10"} {
		require.EqualValues(t, want, after.params[name], "the migration sets %s's default", name)
		require.Nil(t, before.params[name], "the previous release has no %s", name)
		delete(after.params, name)
	}
	require.Equal(t, before, after, "the state made before the upgrade reads the same after it")

	// The upgrade adds the interchain accounts host: its store, and its
	// genesis with the host enabled and app.ICAAllowMessages (not "*").
	require.Equal(t, 3, moduleVersion(t, node, "interchainaccounts"))
	var host struct { // ibc-go's command prints the params themselves, unwrapped
		HostEnabled   bool     `json:"host_enabled"`
		AllowMessages []string `json:"allow_messages"`
	}
	node.Query(&host, "interchain-accounts", "host", "params")
	require.True(t, host.HostEnabled, "the upgrade enables the ICA host")
	require.Equal(t, app.ICAAllowMessages(), host.AllowMessages)

	// The task made before the upgrade completes after it.
	require.Equal(t, "TASK_STATUS_PENDING", getTask(node, pending).Status)
	res = node.Tx("operator2", "avs", "submit-results", pending, "49")
	require.Zero(t, res.Code, res.RawLog)
	done := waitTask(t, node, pending, 30*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", done.Status)
	require.Equal(t, "49", done.ResultString(t))
	require.Len(t, taskVotes(node, pending), 2, "the vote cast before the upgrade counts after it")

	// What the new version adds works on the upgraded chain.
	res = node.Tx("bob", "avs", "create-tasks", svc, "5", "6", "--fee", "300uavs")
	require.Zero(t, res.Code, res.RawLog)
	ids := res.Attributes(evTaskCreated, "task_id")
	require.Len(t, ids, 2)
	for _, op := range []string{"operator1", "operator2"} {
		res := node.Tx(op, "avs", "submit-results", ids[0], "25", ids[1], "36")
		require.Zero(t, res.Code, res.RawLog)
	}
	for i, id := range ids {
		done := waitTask(t, node, id, 30*time.Second)
		require.Equal(t, "TASK_STATUS_COMPLETED", done.Status)
		require.Equal(t, strconv.Itoa((5+i)*(5+i)), done.ResultString(t))
	}
}

// avsViews is what the upgrade must keep: x/avs params, a service, a task,
// its votes and a committer's commitments, as the CLI shows them.
type avsViews struct {
	params      map[string]any
	service     map[string]any
	task        map[string]any
	votes       map[string]any
	commitments map[string]any
}

func avsState(t *testing.T, node *localnet.Node, svc, task string) avsViews {
	t.Helper()
	var p struct {
		Params map[string]any `json:"params"`
	}
	node.Query(&p, "avs", "params")
	v := avsViews{params: p.Params}
	node.Query(&v.service, "avs", "service", svc)
	node.Query(&v.task, "avs", "task", task)
	node.Query(&v.votes, "avs", "task-votes", task)
	node.Query(&v.commitments, "avs", "commitments", node.KeyAddress("carol"))
	require.NotEmpty(t, v.params)
	return v
}

// appHeight is the last height the node's application committed (ABCI
// Info), which an upgrade halt leaves below the height CometBFT has stored.
func appHeight(t *testing.T, node *localnet.Node) int64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/abci_info", node.RPCPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Result struct {
			Response struct {
				LastBlockHeight string `json:"last_block_height"`
			} `json:"response"`
		} `json:"result"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	h, err := strconv.ParseInt(out.Result.Response.LastBlockHeight, 10, 64)
	require.NoError(t, err)
	return h
}

// moduleVersion is a module's consensus version as x/upgrade stores it.
func moduleVersion(t *testing.T, node *localnet.Node, module string) int {
	t.Helper()
	var out struct {
		ModuleVersions []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"module_versions"`
	}
	require.NoError(t, node.REST("/cosmos/upgrade/v1beta1/module_versions?module_name="+module, &out))
	for _, m := range out.ModuleVersions {
		if m.Name == module {
			v, err := strconv.Atoi(m.Version)
			require.NoError(t, err)
			return v
		}
	}
	require.NoError(t, errors.New("no version stored for module "+module))
	return 0
}
