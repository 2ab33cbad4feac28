//go:build e2e

package e2e

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// Commit-reveal (issue #20), with real sidecars on a real chain.

const (
	evCommitsClosed = "avschain.avs.v1.EventCommitsClosed"
	// the registered codes of the commit-reveal refusals (x/avs/types/errors.go)
	codeVoteMode     = "61"
	codeCommitClosed = "62"
	codeNoCommitment = "64"
)

// copycat is the test double of a lazy operator: it never runs a component;
// it reads the first result another operator's vote shows on chain and votes
// it as its own. When the chain refuses a vote in the clear (a COMMIT_REVEAL
// task), it tries the other two ways too: a commitment to the copied result,
// and a reveal of it. Refused records the codes of the refused entries by task.
type copycat struct {
	node    *localnet.Node
	key     string
	salt    string
	Refused map[string][]string
}

func newCopycat(node *localnet.Node, key string) *copycat {
	return &copycat{node: node, key: key, salt: strings.Repeat("c0", 32), Refused: map[string][]string{}}
}

// try copies a result onto the task if one is visible, and reports whether
// it did.
func (c *copycat) try(t *testing.T, id string) bool {
	me := c.node.KeyAddress(c.key)
	var result string
	for _, v := range taskVotes(c.node, id) {
		if v.Operator != me && v.Result != "" {
			b, err := base64.StdEncoding.DecodeString(v.Result)
			require.NoError(t, err)
			result = string(b)
			break
		}
	}
	if result == "" {
		return false
	}
	for _, extra := range [][]string{nil, {"--commit", "--salt", c.salt}, {"--salt", c.salt}} {
		res := c.node.Tx(c.key, append([]string{"avs", "submit-results", id, result}, extra...)...)
		require.Zero(t, res.Code, res.RawLog)
		if !res.HasEvent(evVoteRejected) {
			return true // a vote it never computed, accepted
		}
		c.Refused[id] = append(c.Refused[id], res.Attribute(evVoteRejected, "code"))
	}
	return true
}

// copyAll runs the copycat until it has copied onto every task.
func (c *copycat) copyAll(t *testing.T, ids []string) {
	t.Helper()
	left := map[string]bool{}
	for _, id := range ids {
		left[id] = true
	}
	localnet.Poll(t, 90*time.Second, "the copycat copies every task", func() (struct{}, error) {
		for id := range left {
			if c.try(t, id) {
				delete(left, id)
			}
		}
		if len(left) > 0 {
			return struct{}{}, fmt.Errorf("%d tasks without a visible result", len(left))
		}
		return struct{}{}, nil
	})
}

// livenessIn is the operator's missed count in a service (the operator
// query lists liveness in the order of service_ids).
func livenessIn(t *testing.T, node *localnet.Node, key, service string) int {
	var out struct {
		ServiceIDs []string `json:"service_ids"`
		Liveness   []struct {
			Missed string `json:"missed"`
		} `json:"liveness"`
	}
	node.Query(&out, "avs", "operator", node.KeyAddress(key))
	require.Len(t, out.Liveness, len(out.ServiceIDs))
	for i, id := range out.ServiceIDs {
		if id == service {
			n, _ := strconv.Atoi(out.Liveness[i].Missed) // "" is 0
			return n
		}
	}
	t.Fatalf("%s is not opted in to service %s: %v", key, service, out.ServiceIDs)
	return 0
}

// TestCommitRevealStopsTheCopycat: three honest sidecars and a copycat
// (carol) serve two services with the same component. On the OPEN one, whose
// quorum needs all four, the copycat's copies complete the tasks and it is
// paid for work it never did. On the COMMIT_REVEAL one (3 of 4) no result is
// visible before the commit phase closes: the copycat's vote in the clear,
// its late commitment and its reveal without one are all refused with their
// codes, it never has a counted vote and is counted a miss on every task;
// the honest three decide every task in 2 blocks.
func TestCommitRevealStopsTheCopycat(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-copycat"})
	digest := storeComponent(t, node, component("square-rust"))
	open := createService(t, node, manifest{Name: "open", Digest: digest, Threshold: "1", Timeout: 30})
	sealed := createService(t, node, manifest{Name: "sealed", Digest: digest, Threshold: "0.75", Timeout: 30,
		VoteMode: "VOTE_MODE_COMMIT_REVEAL", CommitBlocks: 5})
	const copier = "carol"
	optIn(t, node, open, append(operators, copier)...)
	optIn(t, node, sealed, append(operators, copier)...)
	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)
	cc := newCopycat(node, copier)

	inputs := []int{3, 5, 9}
	var openTasks, sealedTasks []string
	for _, in := range inputs {
		openTasks = append(openTasks, createTask(t, node, open, strconv.Itoa(in)))
		sealedTasks = append(sealedTasks, createTask(t, node, sealed, strconv.Itoa(in)))
	}
	cc.copyAll(t, append(append([]string(nil), openTasks...), sealedTasks...))

	copierAddr := node.KeyAddress(copier)
	for i, id := range openTasks {
		v := waitTask(t, node, id, 60*time.Second)
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, "open task %s", id)
		require.Equal(t, strconv.Itoa(inputs[i]*inputs[i]), v.ResultString(t))
		require.Equal(t, "4", v.PowerFor, "the copycat's copy is one of the four that decided")
		require.Empty(t, cc.Refused[id], "open task %s: the copy is accepted", id)
	}
	for i, id := range sealedTasks {
		v := waitTask(t, node, id, 60*time.Second)
		require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, "sealed task %s", id)
		require.Equal(t, strconv.Itoa(inputs[i]*inputs[i]), v.ResultString(t))
		require.Equal(t, "3", v.PowerFor, "the three honest operators decided")
		t.Logf("sealed task %s: decided in %d block(s) after its creation", id, v.Blocks(t))
		require.LessOrEqual(t, v.Blocks(t), 3, "commit, close, reveal")
		require.Equal(t, []string{codeVoteMode, codeCommitClosed, codeNoCommitment}, cc.Refused[id],
			"sealed task %s: in the clear, a late commitment, a reveal without one", id)
		for _, vote := range taskVotes(node, id) {
			require.NotEqual(t, copierAddr, vote.Operator, "the copycat has no vote on sealed task %s", id)
		}
	}

	// past the deadlines: the copycat was paid its quarter of each open
	// task's fee (300 / 4), nothing for the sealed ones, and missed each of those
	waitSettled(t, node, append(append([]string(nil), openTasks...), sealedTasks...)...)
	require.Equal(t, strconv.Itoa(len(openTasks)*300/4), operatorRewards(t, node, copier),
		"paid for the open tasks it never computed, and for nothing else")
	require.Zero(t, livenessIn(t, node, copier, open), "a copy is an answer on an open service")
	require.Equal(t, len(sealedTasks), livenessIn(t, node, copier, sealed), "a miss on every sealed task")
	for _, op := range operators {
		require.Zero(t, livenessIn(t, node, op, sealed), op)
	}
}

// TestCommitRevealSidecarKilledBetweenCommitAndReveal: operator1's sidecar
// is SIGKILLed once its commitment is on chain and before the phase closes;
// restarted, it reveals with the salt it saved before committing, and its
// vote decides the task. operator2 runs a sidecar, operator3 commits and
// reveals by hand (so the phase closes when the test says), carol is
// absent: 3 of 4 decide.
func TestCommitRevealSidecarKilledBetweenCommitAndReveal(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-cr-kill"})
	digest := storeComponent(t, node, component("square-rust"))
	service := createService(t, node, manifest{Name: "sealed", Digest: digest, Threshold: "0.75", Timeout: 40,
		VoteMode: "VOTE_MODE_COMMIT_REVEAL", CommitBlocks: 10})
	optIn(t, node, service, append(operators, "carol")...)
	victim := node.StartSidecar("operator1", localnet.SidecarOptions{})
	other := node.StartSidecar("operator2", localnet.SidecarOptions{})
	defer logSidecars(t, victim, other)

	id := createTask(t, node, service, "4")
	localnet.Poll(t, 30*time.Second, "both sidecars committed", func() (struct{}, error) {
		var out struct {
			Task struct {
				CommitCount int `json:"commit_count"`
			} `json:"task"`
		}
		node.Query(&out, "avs", "task", id)
		if out.Task.CommitCount < 2 {
			return struct{}{}, fmt.Errorf("%d commitments", out.Task.CommitCount)
		}
		return struct{}{}, nil
	})
	victim.Kill()

	// operator3 commits by hand: 3 of 4 close the phase
	salt := strings.Repeat("3a", 32)
	res := node.Tx("operator3", "avs", "submit-results", id, "16", "--commit", "--salt", salt)
	require.Zero(t, res.Code, res.RawLog)
	require.False(t, res.HasEvent(evVoteRejected), "operator3's commitment: %v", res.Events)
	require.True(t, res.HasEvent(evCommitsClosed), "the third commitment closes the phase")
	res = node.Tx("operator3", "avs", "submit-results", id, "16", "--salt", salt)
	require.Zero(t, res.Code, res.RawLog)
	require.False(t, res.HasEvent(evVoteRejected), "operator3's reveal: %v", res.Events)

	// operator2's sidecar reveals on its own; without operator1 the task waits
	localnet.Poll(t, 30*time.Second, "operator2 revealed", func() (struct{}, error) {
		if n := len(taskVotes(node, id)); n < 2 {
			return struct{}{}, fmt.Errorf("%d reveals", n)
		}
		return struct{}{}, nil
	})
	require.Equal(t, "TASK_STATUS_PENDING", getTask(node, id).Status, "2 of 4 revealed")

	victim.Start()
	v := waitTask(t, node, id, 60*time.Second)
	require.Equal(t, "TASK_STATUS_COMPLETED", v.Status, victim.Log())
	require.Equal(t, "16", v.ResultString(t))
	require.Equal(t, "3", v.PowerFor)
	voted := map[string]bool{}
	for _, vote := range taskVotes(node, id) {
		voted[vote.Operator] = true
	}
	require.True(t, voted[node.KeyAddress("operator1")], "the restarted sidecar's reveal counts")
	require.NotContains(t, victim.Log(), "reveal does not match", "the same salt as before the kill")
}
