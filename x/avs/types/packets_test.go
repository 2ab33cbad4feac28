package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

func TestDecodePacket(t *testing.T) {
	req := types.TaskRequestPacketData{ServiceID: "3", Input: []byte("7"), Memo: "hi"}
	gotReq, gotRes, err := types.DecodePacket(req.GetBytes())
	require.NoError(t, err)
	require.Nil(t, gotRes)
	require.Equal(t, req, *gotReq)
	require.JSONEq(t, `{"service_id":"3","input":"Nw==","memo":"hi"}`, string(req.GetBytes()))

	res := types.TaskResultPacketData{TaskID: "5", ServiceID: "3", Status: "completed", Input: []byte("7"), Result: []byte("49"), PowerFor: "2", PowerTotal: "3", Height: "9"}
	gotReq, gotRes, err = types.DecodePacket(res.GetBytes())
	require.NoError(t, err)
	require.Nil(t, gotReq)
	require.Equal(t, res, *gotRes)

	for _, bad := range []string{``, `{`, `[]`, `{"service_id":"x"}`, `{"service_id":"1","extra":1}`, `{"task_id":"y","status":"completed"}`, `{"service_id":"1"} {}`} {
		_, _, err := types.DecodePacket([]byte(bad))
		require.ErrorIs(t, err, types.ErrInvalidPacket, bad)
	}

	ack := types.TaskAck{TaskID: "5", Status: "expired", PowerFor: "0", PowerTotal: "3", Height: "9"}
	got, err := types.DecodeAck(ack.GetBytes())
	require.NoError(t, err)
	require.Equal(t, ack, got)
	_, err = types.DecodeAck([]byte(`{"task_id":1}`))
	require.ErrorIs(t, err, types.ErrInvalidPacket)
}

// FuzzDecodePacket: any packet data decodes to exactly one packet kind or to
// ErrInvalidPacket, never a panic; a decoded packet re-encodes to data that
// decodes to the same packet.
func FuzzDecodePacket(f *testing.F) {
	f.Add(types.TaskRequestPacketData{ServiceID: "1", Input: []byte("4")}.GetBytes())
	f.Add(types.TaskResultPacketData{TaskID: "1", ServiceID: "1", Status: "completed", Result: []byte("16")}.GetBytes())
	f.Add([]byte(`{"service_id":"18446744073709551616"}`))
	f.Add([]byte(`{"input":"!!"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, res, err := types.DecodePacket(data)
		if err != nil {
			require.ErrorIs(t, err, types.ErrInvalidPacket)
			require.Nil(t, req)
			require.Nil(t, res)
			return
		}
		require.NotEqual(t, req == nil, res == nil, "exactly one kind")
		if req != nil {
			again, _, err := types.DecodePacket(req.GetBytes())
			require.NoError(t, err)
			require.Equal(t, *req, *again)
		} else {
			_, again, err := types.DecodePacket(res.GetBytes())
			require.NoError(t, err)
			require.Equal(t, *res, *again)
		}
	})
}
