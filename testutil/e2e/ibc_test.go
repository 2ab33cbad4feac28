//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// TestRemoteTaskOverIBC asks for a task across chains with real processes:
// two nodes, the Go relayer linking port avs on both (unordered, avs-1), a
// square service on chain A open to requests from that channel and paid by
// its treasury, three sidecars on chain A, and chain B sending square(7) and
// reading 49 from the acknowledgement.
func TestRemoteTaskOverIBC(t *testing.T) {
	rlyBin := relayerBinary(t)
	chainA := localnet.Start(t, localnet.Options{ChainID: "avs-ibc-a"})
	chainB := localnet.Start(t, localnet.Options{ChainID: "avs-ibc-b"})

	const path = "avs-a-b"
	rly := newRelayer(t, rlyBin, "carol", chainA, chainB)
	rly.link(path, chainA.ChainID, chainB.ChainID, "avs", "avs-1")
	channelA := openChannel(t, chainA, "avs")
	channelB := openChannel(t, chainB, "avs")
	t.Logf("avs/%s on %s <-> avs/%s on %s", channelA, chainA.ChainID, channelB, chainB.ChainID)
	rly.start(path)

	digest := storeComponent(t, chainA, component("square-rust"))
	service := createIBCService(t, chainA, manifest{
		Name: "square", Digest: digest, Threshold: "0.66", MinOps: 2,
	}, channelA)
	require.Zero(t, chainA.Tx("alice", "avs", "fund-service", service, "1000000uavs").Code)
	ops := []string{"operator1", "operator2", "operator3"}
	optIn(t, chainA, service, ops...)
	sidecars := startSidecars(chainA, ops...)
	defer logSidecars(t, sidecars...)

	res := chainB.Tx("alice", "avs", "request-remote-task", channelB, service, "7", "--timeout", "600s")
	require.Zero(t, res.Code, res.RawLog)
	seq := res.Attribute("send_packet", "packet_sequence")
	require.Equal(t, "1", seq)

	alive := func() {
		if !rly.running() {
			t.Fatal("rly start exited")
		}
	}
	remote := waitRemoteResult(t, chainB, channelB, seq, 3*time.Minute, alive)
	require.Equal(t, "REMOTE_STATUS_COMPLETED", remote.Status, "remote result: %+v", remote)
	require.Equal(t, "NDk=", remote.Result, "base64 of 49")
	answer, err := base64.StdEncoding.DecodeString(remote.Result)
	require.NoError(t, err)
	require.Equal(t, "49", string(answer))
	require.Equal(t, service, remote.ServiceID)
	require.Equal(t, "3", remote.PowerTotal)
	require.Contains(t, []string{"2", "3"}, remote.PowerFor)

	// The acknowledgement describes chain A's task.
	task := getTask(chainA, remote.TaskID)
	require.Equal(t, "TASK_STATUS_COMPLETED", task.Status)
	require.Equal(t, "49", task.ResultString(t))
	require.Equal(t, remote.PowerFor, task.PowerFor)

	var list struct {
		RemoteResults []remoteResultView `json:"remote_results"`
	}
	chainB.Query(&list, "avs", "remote-results")
	require.Len(t, list.RemoteResults, 1)
	require.Equal(t, channelB, list.RemoteResults[0].Channel)
}

// createIBCService creates the service of manifest m, open to task requests
// arriving on channel (port avs): the manifest's ibc_request_channels.
func createIBCService(t *testing.T, node *localnet.Node, m manifest, channel string) string {
	t.Helper()
	res := node.Tx("alice", "avs", "create-service", ibcManifestFile(t, m, []string{channel}, nil))
	require.Zero(t, res.Code, res.RawLog)
	id := res.Attribute(evServiceCreated, "service_id")
	require.NotEmpty(t, id)
	return id
}

// ibcManifestFile writes manifest m with its IBC channel lists (port avs):
// requests accepted from, and results pushed to.
func ibcManifestFile(t *testing.T, m manifest, requestChannels, resultChannels []string) string {
	t.Helper()
	file := manifestFile(t, m)
	bz, err := os.ReadFile(file)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(bz, &body))
	body["ibc_request_channels"] = requestChannels
	if len(resultChannels) > 0 {
		body["ibc_result_channels"] = resultChannels
	}
	bz, err = json.Marshal(body)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, bz, 0o600))
	return file
}
