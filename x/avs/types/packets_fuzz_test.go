package types_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

// requireDecimal fails unless s is the canonical decimal of a uint64 (or of
// a non-negative int64 when signed): what the sending chain's
// strconv.Format writes, and the only form the keeper may store.
func requireDecimal(t *testing.T, field, s string, signed bool) {
	t.Helper()
	if signed {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, "%s %q", field, s)
		require.GreaterOrEqual(t, n, int64(0), "%s %q", field, s)
		require.Equal(t, strconv.FormatInt(n, 10), s, "%s %q is not canonical", field, s)
		return
	}
	n, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err, "%s %q", field, s)
	require.Equal(t, strconv.FormatUint(n, 10), s, "%s %q is not canonical", field, s)
}

// FuzzDecodeAck: an acknowledgement comes from the counterparty chain. Any
// bytes decode to a TaskAck or to ErrInvalidPacket, never a panic; a decoded
// ack has canonical decimal numbers (the keeper stores them parsed, review
// M6: a "task_id":"x" was stored as 0), its Numbers match them, and it
// re-encodes to bytes that decode to the same ack.
func FuzzDecodeAck(f *testing.F) {
	f.Add(types.TaskAck{TaskID: "5", Status: "completed", Result: []byte("25"), PowerFor: "2", PowerTotal: "3", Height: "9"}.GetBytes())
	f.Add(types.TaskAck{TaskID: "5", Status: "expired", PowerFor: "0", PowerTotal: "3", Height: "9"}.GetBytes())
	f.Add(types.TaskAck{TaskID: "7", Status: "failed", Result: []byte("trap"), PowerFor: "3", PowerTotal: "3", Height: "12"}.GetBytes())
	f.Add([]byte(`{"task_id":"x","status":"completed","power_for":"1","power_total":"1","height":"1"}`))
	f.Add([]byte(`{"task_id":"18446744073709551616","status":"completed","power_for":"1","power_total":"1","height":"1"}`))
	f.Add([]byte(`{"task_id":"007","status":"completed","power_for":"+1","power_total":"1","height":"-1"}`))
	f.Add([]byte(`{"task_id":1}`))
	f.Add([]byte(`{"task_id":"1","status":"completed","power_for":"1","power_total":"1","height":"1"} {}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := types.DecodeAck(data)
		if err != nil {
			require.ErrorIs(t, err, types.ErrInvalidPacket)
			return
		}
		requireDecimal(t, "task_id", a.TaskID, false)
		requireDecimal(t, "power_for", a.PowerFor, false)
		requireDecimal(t, "power_total", a.PowerTotal, false)
		requireDecimal(t, "height", a.Height, true)
		n, err := a.Numbers()
		require.NoError(t, err)
		require.Equal(t, a.TaskID, strconv.FormatUint(n.TaskID, 10))
		require.Equal(t, a.PowerFor, strconv.FormatUint(n.PowerFor, 10))
		require.Equal(t, a.PowerTotal, strconv.FormatUint(n.PowerTotal, 10))
		require.Equal(t, a.Height, strconv.FormatInt(n.Height, 10))
		again, err := types.DecodeAck(a.GetBytes())
		require.NoError(t, err)
		require.Equal(t, a, again)
	})
}

// FuzzPushedResultNumbers: a pushed result (TaskResultPacketData) that
// decodes has canonical decimal ids, powers and height, and Numbers returns
// them; one that does not is refused with ErrInvalidPacket (review M6:
// OnRecvTaskResult dropped the parse errors and stored "x" as 0).
func FuzzPushedResultNumbers(f *testing.F) {
	ok := types.TaskResultPacketData{TaskID: "9", ServiceID: "2", Status: "completed", Input: []byte("5"), Result: []byte("25"),
		PowerFor: "2", PowerTotal: "3", Height: "40"}
	f.Add(ok.TaskID, ok.ServiceID, ok.PowerFor, ok.PowerTotal, ok.Height)
	f.Add("9", "x", "2", "3", "40")
	f.Add("9", "2", "", "3", "40")
	f.Add("9", "2", "2", "18446744073709551616", "40")
	f.Add("9", "2", "2", "3", "-40")
	f.Add("09", "2", "2", "3", "+40")
	f.Add("18446744073709551615", "0", "0", "0", "9223372036854775807")
	f.Fuzz(func(t *testing.T, taskID, serviceID, powerFor, powerTotal, height string) {
		p := ok
		p.TaskID, p.ServiceID, p.PowerFor, p.PowerTotal, p.Height = taskID, serviceID, powerFor, powerTotal, height
		req, res, err := types.DecodePacket(p.GetBytes())
		require.Nil(t, req, "a result is never taken for a request")
		if err != nil {
			require.ErrorIs(t, err, types.ErrInvalidPacket)
			_, nerr := p.Numbers()
			require.ErrorIs(t, nerr, types.ErrInvalidPacket, "DecodePacket and Numbers agree")
			return
		}
		require.Equal(t, p, *res)
		requireDecimal(t, "task_id", res.TaskID, false)
		requireDecimal(t, "service_id", res.ServiceID, false)
		requireDecimal(t, "power_for", res.PowerFor, false)
		requireDecimal(t, "power_total", res.PowerTotal, false)
		requireDecimal(t, "height", res.Height, true)
		n, err := res.Numbers()
		require.NoError(t, err)
		require.Equal(t, types.TaskResultPacketData{
			TaskID: strconv.FormatUint(n.TaskID, 10), ServiceID: strconv.FormatUint(n.ServiceID, 10), Status: p.Status,
			Input: p.Input, Result: p.Result, PowerFor: strconv.FormatUint(n.PowerFor, 10),
			PowerTotal: strconv.FormatUint(n.PowerTotal, 10), Height: strconv.FormatInt(n.Height, 10),
		}, *res, "the numbers format back to the packet")
	})
}
