//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// component returns the path of a committed example component.
func component(name string) string {
	return filepath.Join(localnet.RepoRoot(), "components", name, name+".wasm")
}

// writeWasm writes wasm bytes into the test's temp dir.
func writeWasm(t *testing.T, name string, wasm []byte) string {
	p := filepath.Join(t.TempDir(), name+".wasm")
	require.NoError(t, os.WriteFile(p, wasm, 0o600))
	return p
}

func storeComponent(t *testing.T, node *localnet.Node, path string) string {
	res := node.Tx("alice", "avs", "store-component", path)
	require.Zero(t, res.Code, res.RawLog)
	digest := res.Attribute(evComponentStored, "digest")
	require.Len(t, digest, 64)
	return digest
}

// manifest is the part of a service manifest the tests vary.
type manifest struct {
	Name        string
	Digest      string
	Threshold   string
	MinOps      int
	TimeMs      int
	Pages       int
	Timeout     int
	AllowHosts  []string
	Config      map[string]string
	Aggregation string
	Spread      string
	Weighting   string
	// Triggers is the manifest's triggers as JSON.
	Triggers string
	// HandlerContract is told of each task's end (see contract_test.go).
	HandlerContract string
	// SlashFraction is what a losing vote costs its operator's backing
	// ("" = the service does not slash); SlashableSpread (MEDIAN) is how far
	// from the median a vote may lie before it is slashed ("" = Spread).
	SlashFraction   string
	SlashableSpread string
	// VoteMode is "VOTE_MODE_COMMIT_REVEAL" for a commit-reveal service ("" =
	// open voting); CommitBlocks its commit phase's most blocks (0 = the
	// module's max_commit_blocks).
	VoteMode     string
	CommitBlocks int
}

func createService(t *testing.T, node *localnet.Node, m manifest) string {
	res := node.Tx("alice", "avs", "create-service", manifestFile(t, m))
	require.Zero(t, res.Code, res.RawLog)
	id := res.Attribute(evServiceCreated, "service_id")
	require.NotEmpty(t, id)
	return id
}

// manifestFile writes m, defaults filled in, as a manifest JSON file.
func manifestFile(t *testing.T, m manifest) string {
	if m.Threshold == "" {
		m.Threshold = "1"
	}
	if m.TimeMs == 0 {
		m.TimeMs = 5000
	}
	if m.Pages == 0 {
		m.Pages = 512
	}
	if m.Timeout == 0 {
		m.Timeout = 40
	}
	if m.Aggregation == "" {
		m.Aggregation = "AGGREGATION_MODE_EXACT"
	}
	if m.Spread == "" {
		m.Spread = "0"
	}
	if m.SlashFraction == "" {
		m.SlashFraction = "0"
	}
	if m.SlashableSpread == "" {
		m.SlashableSpread = "0"
	}
	if m.Weighting == "" {
		m.Weighting = "WEIGHTING_EQUAL"
	}
	admission := "ADMISSION_OPEN"
	if m.Weighting == "WEIGHTING_EQUAL" {
		// EQUAL weighting only among listed operators (H-6): optIn lists them
		admission = "ADMISSION_ALLOWLIST"
	}
	body := map[string]any{
		"name":             m.Name,
		"component_digest": m.Digest,
		"limits": map[string]any{
			"time_ms": strconv.Itoa(m.TimeMs), "memory_pages": m.Pages, "output_bytes": "1024",
			"http_allow_list": m.AllowHosts,
		},
		"quorum":           map[string]any{"threshold": m.Threshold, "weighting": m.Weighting, "min_operators": m.MinOps},
		"aggregation":      map[string]any{"mode": m.Aggregation, "allowed_spread": m.Spread, "slashable_spread": m.SlashableSpread},
		"task_timeout":     strconv.Itoa(m.Timeout),
		"fee_per_task":     map[string]any{"denom": "uavs", "amount": "300"},
		"handler_contract": m.HandlerContract,
		"admission":        admission,
		"slash_fraction":   m.SlashFraction,
	}
	if m.Triggers != "" {
		body["triggers"] = json.RawMessage(m.Triggers)
	}
	if m.VoteMode != "" {
		body["vote_mode"] = m.VoteMode
		body["commit_blocks"] = strconv.Itoa(m.CommitBlocks)
	}
	var config []map[string]string
	for k, v := range m.Config {
		config = append(config, map[string]string{"key": k, "value": v})
	}
	body["config"] = config
	bz, err := json.Marshal(body)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), m.Name+".json")
	require.NoError(t, os.WriteFile(path, bz, 0o600))
	return path
}

// optIn registers (once) and opts in each operator key, first putting it on
// the service's allow-list (signed by alice, the owner) if it has one.
func optIn(t *testing.T, node *localnet.Node, service string, keys ...string) {
	var svc struct {
		Service struct {
			Manifest struct {
				Admission string `json:"admission"`
			} `json:"manifest"`
		} `json:"service"`
	}
	node.Query(&svc, "avs", "service", service)
	for _, k := range keys {
		var op struct{}
		if _, err := node.TryQuery(&op, "avs", "operator", node.KeyAddress(k)); err != nil {
			require.Zero(t, node.Tx(k, "avs", "register-operator", k).Code)
		}
		if svc.Service.Manifest.Admission == "ADMISSION_ALLOWLIST" {
			res := node.Tx("alice", "avs", "update-allowlist", service, "--add", node.KeyAddress(k))
			require.Zero(t, res.Code, res.RawLog)
		}
		res := node.Tx(k, "avs", "opt-in", service)
		require.Zero(t, res.Code, res.RawLog)
	}
}

func createTask(t *testing.T, node *localnet.Node, service, input string) string {
	res := node.Tx("bob", "avs", "create-task", service, input, "--fee", "300uavs")
	require.Zero(t, res.Code, res.RawLog)
	id := res.Attribute(evTaskCreated, "task_id")
	require.NotEmpty(t, id)
	return id
}

type taskView struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Result        string `json:"result"`
	ResultDigest  string `json:"result_digest"`
	CreatedHeight string `json:"created_height"`
	EndedHeight   string `json:"ended_height"`
	PowerFor      string `json:"power_for"`
	Failure       string `json:"failure"`
	// DeadlineHeight is the last height at which a vote counts.
	DeadlineHeight string `json:"deadline_height"`
}

func (v taskView) ResultString(t *testing.T) string {
	b, err := base64.StdEncoding.DecodeString(v.Result)
	require.NoError(t, err)
	return string(b)
}

// Blocks is how many blocks the task took from creation to its end.
func (v taskView) Blocks(t *testing.T) int {
	c, err := strconv.Atoi(v.CreatedHeight)
	require.NoError(t, err)
	e, err := strconv.Atoi(v.EndedHeight)
	require.NoError(t, err)
	return e - c
}

func getTask(node *localnet.Node, id string) taskView {
	var out struct {
		Task taskView `json:"task"`
	}
	node.Query(&out, "avs", "task", id)
	return out.Task
}

// waitTask waits until a task leaves PENDING.
func waitTask(t *testing.T, node *localnet.Node, id string, timeout time.Duration) taskView {
	t.Helper()
	return localnet.Poll(t, timeout, "task "+id+": leave PENDING", func() (taskView, error) {
		v := getTask(node, id)
		if v.Status == "TASK_STATUS_PENDING" {
			return v, errors.New("still pending")
		}
		return v, nil
	})
}

// waitSettled waits until each task is settled (its deadline passed and its
// end paid out), after which nothing of it changes with blocks.
func waitSettled(t *testing.T, node *localnet.Node, ids ...string) {
	t.Helper()
	localnet.Poll(t, 60*time.Second, fmt.Sprintf("tasks %v: settled", ids), func() (bool, error) {
		for _, id := range ids {
			var out struct {
				Task struct {
					Settled bool `json:"settled"`
				} `json:"task"`
			}
			node.Query(&out, "avs", "task", id)
			if !out.Task.Settled {
				return false, fmt.Errorf("task %s not settled", id)
			}
		}
		return true, nil
	})
}

type voteView struct {
	Operator string `json:"operator"`
	Digest   string `json:"digest"`
	Late     bool   `json:"late"`
	Failure  string `json:"failure"`
	Result   string `json:"result"` // base64
}

func taskVotes(node *localnet.Node, id string) []voteView {
	var out struct {
		Votes []voteView `json:"votes"`
	}
	node.Query(&out, "avs", "task-votes", id)
	return out.Votes
}

// waitVotes waits until a task has n votes.
func waitVotes(t *testing.T, node *localnet.Node, id string, n int, timeout time.Duration) []voteView {
	t.Helper()
	return localnet.Poll(t, timeout, fmt.Sprintf("task %s: %d votes", id, n), func() ([]voteView, error) {
		v := taskVotes(node, id)
		if len(v) < n {
			return v, fmt.Errorf("%d votes", len(v))
		}
		return v, nil
	})
}

// startSidecars starts a sidecar for each operator key (the caller defers
// logSidecars on them).
func startSidecars(node *localnet.Node, keys ...string) []*localnet.Sidecar {
	sidecars := make([]*localnet.Sidecar, 0, len(keys))
	for _, k := range keys {
		sidecars = append(sidecars, node.StartSidecar(k, localnet.SidecarOptions{}))
	}
	return sidecars
}

func logSidecars(t *testing.T, sidecars ...*localnet.Sidecar) {
	if !t.Failed() {
		return
	}
	for _, s := range sidecars {
		t.Logf("--- sidecar %s log ---\n%s", s.Key, s.Log())
	}
}

// instantiate stores a contract and instantiates it, returning its address
// (avs1... on avschain, wasm1... on wasmd: the prefix of alice's address).
func instantiate(t *testing.T, node *localnet.Node, name string, wasm []byte, msg string) string {
	res := node.Tx("alice", "wasm", "store", writeWasm(t, name, wasm))
	require.Zero(t, res.Code, res.RawLog)
	codeID := res.Attribute("store_code", "code_id")
	require.NotEmpty(t, codeID)
	res = node.Tx("alice", "wasm", "instantiate", codeID, msg, "--label", name, "--admin", node.KeyAddress("alice"))
	require.Zero(t, res.Code, res.RawLog)
	addr := res.Attribute("instantiate", "_contract_address")
	prefix, _, _ := strings.Cut(node.KeyAddress("alice"), "1")
	require.True(t, strings.HasPrefix(addr, prefix+"1"), "contract address %q", addr)
	return addr
}

// waitNextEpoch waits for the first block of the next x/avs epoch (the
// localnet's epoch_length is 100): commitments made before it count from it.
func waitNextEpoch(t *testing.T, node *localnet.Node) {
	t.Helper()
	h, err := node.Height()
	require.NoError(t, err)
	node.WaitHeight((h/100+1)*100, 200*time.Second)
}
