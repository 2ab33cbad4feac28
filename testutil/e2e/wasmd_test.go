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

	"github.com/avschain/avschain/contracts"
	"github.com/avschain/avschain/testutil/localnet"
)

// clientRecord is a record of contracts/avs-ibc-client, as its `result`
// query returns it.
type clientRecord struct {
	ID             string `json:"id"`
	Kind           string `json:"kind"`
	Channel        string `json:"channel"`
	ServiceID      string `json:"service_id"`
	Status         string `json:"status"`
	TaskID         string `json:"task_id"`
	Result         string `json:"result"`
	PowerFor       string `json:"power_for"`
	PowerTotal     string `json:"power_total"`
	Error          string `json:"error"`
	Callback       string `json:"callback"`
	CallbackStatus string `json:"callback_status"`
}

// clientResult reads record id from the client contract on node.
func clientResult(t *testing.T, node *localnet.Node, client, id string) clientRecord {
	t.Helper()
	var out struct {
		Data clientRecord `json:"data"`
	}
	node.Query(&out, "wasm", "contract-state", "smart", client, fmt.Sprintf(`{"result":{"id":%q}}`, id))
	return out.Data
}

// waitClientResult waits until record id of the client contract leaves
// pending; alive fails the test early if the relayer died.
func waitClientResult(t *testing.T, node *localnet.Node, client, id string, timeout time.Duration, alive func()) clientRecord {
	t.Helper()
	return localnet.Poll(t, timeout, "avs-ibc-client record "+id+": leave pending", func() (clientRecord, error) {
		alive()
		r := clientResult(t, node, client, id)
		if r.Status == "pending" {
			return r, errors.New("pending")
		}
		return r, nil
	})
}

// clientRequest sends `request` to the client contract from bob and returns
// the request id the contract assigned.
func clientRequest(t *testing.T, node *localnet.Node, client, msg string) string {
	t.Helper()
	res := node.Tx("bob", "wasm", "execute", client, msg)
	require.Zero(t, res.Code, res.RawLog)
	id := res.Attribute("wasm", "request_id")
	require.NotEmpty(t, id, "request_id attribute of %s", msg)
	return id
}

// TestWasmdChainUsesAvschain: a plain wasmd chain (the wasmd go.mod pins, not
// a second avschain) uses avschain's services the two ways issue #22 names,
// with real processes: wasmd, avsd, rly and three sidecars.
//
//   - The client contract contracts/avs-ibc-client, on port wasm.<address>,
//     opens a channel to avschain's port avs (the counterparty port is not
//     avs) and requests square(9): 81 is read through the contract's query on
//     wasmd, and the callback contract receives it.
//   - An interchain account, registered from wasmd on avschain's ICA host,
//     funds the service and creates a task, which the sidecars complete.
//   - A request for a service that does not exist comes back as an error
//     acknowledgement the contract records with its reason; a request not
//     relayed before its timeout is recorded as timed out.
func TestWasmdChainUsesAvschain(t *testing.T) {
	rlyBin := relayerBinary(t)
	a := localnet.Start(t, localnet.Options{ChainID: "avs-wasmd-a"})
	w := localnet.StartWasmd(t, localnet.Options{ChainID: "wasmd-e2e-1"})

	// On wasmd: the client contract and the callback receiver.
	client := instantiate(t, w, "avs_ibc_client", contracts.ClientWasm(), `{}`)
	handler := instantiate(t, w, "avs_handler", contracts.HandlerWasm(), `{}`)
	var info struct {
		ContractInfo struct {
			IBCPortID string `json:"ibc_port_id"`
		} `json:"contract_info"`
	}
	w.Query(&info, "wasm", "contract", client)
	clientPort := info.ContractInfo.IBCPortID
	require.Equal(t, "wasm."+client, clientPort, "wasmd binds an IBC-enabled contract's port")

	const path = "wasmd-avs"
	rly := newRelayer(t, rlyBin, "carol", w, a)
	rly.linkPorts(path, w.ChainID, a.ChainID, clientPort, "avs", "avs-1")
	channelA := openChannel(t, a, "avs")
	channelW := openChannel(t, w, clientPort)
	t.Logf("%s/%s on %s <-> avs/%s on %s", clientPort, channelW, w.ChainID, channelA, a.ChainID)
	rly.start(path)
	alive := func() {
		if !rly.running() {
			t.Fatal("rly start exited")
		}
	}

	// On avschain: a square service open to requests from that channel.
	digest := storeComponent(t, a, component("square-rust"))
	service := createIBCService(t, a, manifest{Name: "square", Digest: digest, Threshold: "0.66", MinOps: 2}, channelA)
	require.Zero(t, a.Tx("alice", "avs", "fund-service", service, "1000000uavs").Code)
	ops := []string{"operator1", "operator2", "operator3"}
	optIn(t, a, service, ops...)
	sidecars := startSidecars(a, ops...)
	defer logSidecars(t, sidecars...)

	t.Run("square(9) through the client contract, with a callback", func(t *testing.T) {
		id := clientRequest(t, w, client, fmt.Sprintf(
			`{"request":{"service_id":%q,"input":%q,"timeout_seconds":600,"callback":%q}}`,
			service, base64.StdEncoding.EncodeToString([]byte("9")), handler))
		rec := waitClientResult(t, w, client, id, 3*time.Minute, alive)
		require.Equal(t, "completed", rec.Status, "record: %+v", rec)
		result, err := base64.StdEncoding.DecodeString(rec.Result)
		require.NoError(t, err)
		require.Equal(t, "81", string(result))
		require.Equal(t, service, rec.ServiceID)
		require.Equal(t, "3", rec.PowerTotal)
		require.Equal(t, channelW, rec.Channel)
		task := getTask(a, rec.TaskID)
		require.Equal(t, "TASK_STATUS_COMPLETED", task.Status)
		require.Equal(t, "81", task.ResultString(t))

		// The callback contract received the same record.
		require.Equal(t, "delivered", rec.CallbackStatus, "record: %+v", rec)
		var cb struct {
			Data json.RawMessage `json:"data"`
		}
		w.Query(&cb, "wasm", "contract-state", "smart", handler, `{"callbacks":{}}`)
		require.Contains(t, string(cb.Data), `"status":"completed"`, "callbacks: %s", cb.Data)
		require.Contains(t, string(cb.Data), rec.Result, "callbacks: %s", cb.Data)
		require.Contains(t, string(cb.Data), client, "the callback's sender is the client contract: %s", cb.Data)
	})

	t.Run("an interchain account funds the service and creates a task", func(t *testing.T) {
		var end struct {
			Channel struct {
				ConnectionHops []string `json:"connection_hops"`
			} `json:"channel"`
		}
		w.Query(&end, "ibc", "channel", "end", clientPort, channelW)
		require.Len(t, end.Channel.ConnectionHops, 1)
		conn := end.Channel.ConnectionHops[0]
		var connEnd struct {
			Connection struct {
				Counterparty struct {
					ConnectionID string `json:"connection_id"`
				} `json:"counterparty"`
			} `json:"connection"`
		}
		w.Query(&connEnd, "ibc", "connection", "end", conn)
		hostConn := connEnd.Connection.Counterparty.ConnectionID
		require.NotEmpty(t, hostConn)
		owner := w.KeyAddress("alice")
		// With an empty --version, register fails on this wasmd ("cannot
		// unmarshal ICS-27 interchain accounts metadata", from its
		// controller stack of fee and callbacks middleware): the ICS-27
		// metadata is given in full, as docs/IBC-CLIENTS.md shows.
		version := fmt.Sprintf(`{"version":"ics27-1","controller_connection_id":%q,"host_connection_id":%q,"address":"","encoding":"proto3","tx_type":"sdk_multi_msg"}`, conn, hostConn)
		res := w.Tx("alice", "interchain-accounts", "controller", "register", conn, "--version", version)
		require.Zero(t, res.Code, res.RawLog)
		// rly start completes the ICA channel's handshake.
		ica := localnet.Poll(t, 3*time.Minute, "interchain account of "+owner, func() (string, error) {
			alive()
			var out struct {
				Address string `json:"address"`
			}
			if _, err := w.TryQuery(&out, "interchain-accounts", "controller", "interchain-account", owner, conn); err != nil {
				return "", err
			}
			if out.Address == "" {
				return "", errors.New("no address yet")
			}
			return out.Address, nil
		})
		require.True(t, strings.HasPrefix(ica, "avs1"), "an account on avschain: %s", ica)
		res = a.Tx("alice", "bank", "send", a.KeyAddress("alice"), ica, "5000000uavs")
		require.Zero(t, res.Code, res.RawLog)

		var before struct {
			Treasury struct {
				Amount string `json:"amount"`
			} `json:"treasury"`
		}
		a.Query(&before, "avs", "treasury", service)
		msgs := fmt.Sprintf(`[
			{"@type":"/avschain.avs.v1.MsgFundService","funder":%q,"service_id":%q,"amount":{"denom":"uavs","amount":"1000000"}},
			{"@type":"/avschain.avs.v1.MsgCreateTask","creator":%q,"service_id":%q,"input":%q,"fee":{"denom":"uavs","amount":"300"}}
		]`, ica, service, ica, service, base64.StdEncoding.EncodeToString([]byte("12")))
		packet := a.Run("tx", "interchain-accounts", "host", "generate-packet-data", msgs, "--encoding", "proto3")
		file := filepath.Join(t.TempDir(), "ica-packet.json")
		require.NoError(t, os.WriteFile(file, packet, 0o600))
		res = w.Tx("alice", "interchain-accounts", "controller", "send-tx", conn, file)
		require.Zero(t, res.Code, res.RawLog)

		taskID := localnet.Poll(t, 2*time.Minute, "a task created by the interchain account", func() (string, error) {
			alive()
			var out struct {
				Tasks []struct {
					ID      string `json:"id"`
					Creator string `json:"creator"`
				} `json:"tasks"`
			}
			a.Query(&out, "avs", "tasks", service)
			for _, tk := range out.Tasks {
				if tk.Creator == ica {
					return tk.ID, nil
				}
			}
			return "", errors.New("none yet")
		})
		task := waitTask(t, a, taskID, 2*time.Minute)
		require.Equal(t, "TASK_STATUS_COMPLETED", task.Status)
		require.Equal(t, "144", task.ResultString(t))
		var after struct {
			Treasury struct {
				Amount string `json:"amount"`
			} `json:"treasury"`
		}
		a.Query(&after, "avs", "treasury", service)
		require.Equal(t, mustAtoi(t, before.Treasury.Amount)+1000000, mustAtoi(t, after.Treasury.Amount),
			"the interchain account funded the treasury")
	})

	t.Run("an unknown service is an error ack, a late request a timeout", func(t *testing.T) {
		id := clientRequest(t, w, client, fmt.Sprintf(`{"request":{"service_id":"999","input":%q,"timeout_seconds":600}}`,
			base64.StdEncoding.EncodeToString([]byte("3"))))
		rec := waitClientResult(t, w, client, id, 2*time.Minute, alive)
		require.Equal(t, "error", rec.Status, "record: %+v", rec)
		require.Contains(t, rec.Error, "avs/10: service not found")

		// With the relayer stopped, a request with a 1 s timeout cannot
		// reach avschain in time; the relayer, started again, proves the
		// timeout to wasmd and the contract records it.
		rly.stop()
		id = clientRequest(t, w, client, fmt.Sprintf(`{"request":{"service_id":%q,"input":%q,"timeout_seconds":1}}`,
			service, base64.StdEncoding.EncodeToString([]byte("4"))))
		h, err := a.Height()
		require.NoError(t, err)
		a.WaitHeight(h+3, 30*time.Second) // avschain's clock passes the timeout
		require.Equal(t, "pending", clientResult(t, w, client, id).Status)
		rly.start(path)
		rec = waitClientResult(t, w, client, id, 3*time.Minute, alive)
		require.Equal(t, "timeout", rec.Status, "record: %+v", rec)
		require.Empty(t, rec.TaskID, "no task was created on avschain")
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "integer %q", s)
	return n
}
