package types

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	errorsmod "cosmossdk.io/errors"
)

// IBC application identity: port, version and channel ordering.
const (
	PortID  = ModuleName
	Version = "avs-1"
	// DefaultRemoteTimeout is the timeout of a remote request that names none.
	DefaultRemoteTimeoutSeconds uint64 = 600
	// MaxRemoteTimeoutSeconds bounds a remote request's timeout (30 days):
	// block time plus it must stay far inside int64 nanoseconds (L-5).
	MaxRemoteTimeoutSeconds uint64 = 30 * 24 * 60 * 60
)

// TaskRequestPacketData asks the receiving chain's service for a task. It is
// JSON (like ICS-20), so a CosmWasm IBC contract can send it: ids are decimal
// strings, bytes base64.
type TaskRequestPacketData struct {
	ServiceID string `json:"service_id"`
	Input     []byte `json:"input"`
	Memo      string `json:"memo,omitempty"`
}

// TaskResultPacketData pushes a completed task's result to another chain.
type TaskResultPacketData struct {
	TaskID     string `json:"task_id"`
	ServiceID  string `json:"service_id"`
	Status     string `json:"status"`
	Input      []byte `json:"input"`
	Result     []byte `json:"result"`
	PowerFor   string `json:"power_for"`
	PowerTotal string `json:"power_total"`
	Height     string `json:"height"`
}

// TaskAck is the success acknowledgement of a TaskRequestPacketData, written
// when the task completes or expires.
type TaskAck struct {
	TaskID string `json:"task_id"`
	// Status is "completed", "failed" (Result is the failure reason: "trap",
	// "exit", "time", "memory", "output", "http") or "expired".
	Status     string `json:"status"`
	Result     []byte `json:"result"`
	PowerFor   string `json:"power_for"`
	PowerTotal string `json:"power_total"`
	Height     string `json:"height"`
}

// GetBytes is the packet's JSON (struct field order makes it deterministic).
func (p TaskRequestPacketData) GetBytes() []byte { return mustJSON(p) }

// GetBytes is the packet's JSON.
func (p TaskResultPacketData) GetBytes() []byte { return mustJSON(p) }

// GetBytes is the acknowledgement's JSON.
func (a TaskAck) GetBytes() []byte { return mustJSON(a) }

func mustJSON(v any) []byte {
	bz, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings and bytes: cannot fail
	}
	return bz
}

// ServiceIDUint parses the service id.
func (p TaskRequestPacketData) ServiceIDUint() (uint64, error) {
	id, err := strconv.ParseUint(p.ServiceID, 10, 64)
	if err != nil {
		return 0, errorsmod.Wrapf(ErrInvalidPacket, "service_id %q is not a decimal id", p.ServiceID)
	}
	return id, nil
}

// RemoteNumbers are the decimal fields of a pushed result or of an
// acknowledgement, parsed (ServiceID is 0 for an acknowledgement).
type RemoteNumbers struct {
	TaskID, ServiceID, PowerFor, PowerTotal uint64
	Height                                  int64
}

// Numbers parses the result's ids, powers and height. Each must be the
// canonical decimal strconv writes, as the sending chain does: anything else
// is ErrInvalidPacket, never a silent 0 (tests review M6).
func (p TaskResultPacketData) Numbers() (RemoteNumbers, error) {
	var n RemoteNumbers
	err := parseDecimals(&n, p.TaskID, p.PowerFor, p.PowerTotal, p.Height)
	if err == nil {
		n.ServiceID, err = parseCanonicalUint("service_id", p.ServiceID)
	}
	return n, err
}

// Numbers parses the acknowledgement's task id, powers and height, as
// TaskResultPacketData.Numbers does.
func (a TaskAck) Numbers() (RemoteNumbers, error) {
	var n RemoteNumbers
	return n, parseDecimals(&n, a.TaskID, a.PowerFor, a.PowerTotal, a.Height)
}

func parseDecimals(n *RemoteNumbers, taskID, powerFor, powerTotal, height string) (err error) {
	if n.TaskID, err = parseCanonicalUint("task_id", taskID); err != nil {
		return err
	}
	if n.PowerFor, err = parseCanonicalUint("power_for", powerFor); err != nil {
		return err
	}
	if n.PowerTotal, err = parseCanonicalUint("power_total", powerTotal); err != nil {
		return err
	}
	h, err := parseCanonicalUint("height", height)
	if err != nil || h > math.MaxInt64 {
		return errorsmod.Wrapf(ErrInvalidPacket, "height %q is not a decimal block height", height)
	}
	n.Height = int64(h)
	return nil
}

// parseCanonicalUint parses a decimal uint64 written without sign or
// leading zeros.
func parseCanonicalUint(field, s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != s {
		return 0, errorsmod.Wrapf(ErrInvalidPacket, "%s %q is not a decimal number", field, s)
	}
	return v, nil
}

func strictDecode(bz []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

// DecodePacket reads an avs packet: exactly one of the results is set. Unknown
// fields are refused, so a result packet is never taken for a request; a
// result's numbers must parse (TaskResultPacketData.Numbers).
func DecodePacket(bz []byte) (*TaskRequestPacketData, *TaskResultPacketData, error) {
	var req TaskRequestPacketData
	errReq := strictDecode(bz, &req)
	if errReq == nil {
		if _, err := req.ServiceIDUint(); err != nil {
			return nil, nil, err
		}
		return &req, nil, nil
	}
	var res TaskResultPacketData
	if err := strictDecode(bz, &res); err == nil {
		if _, err := res.Numbers(); err != nil {
			return nil, nil, err
		}
		return nil, &res, nil
	}
	return nil, nil, errorsmod.Wrapf(ErrInvalidPacket, "not a TaskRequestPacketData or TaskResultPacketData: %s", errReq)
}

// DecodeAck reads a TaskAck; its numbers must parse (TaskAck.Numbers).
func DecodeAck(bz []byte) (TaskAck, error) {
	var a TaskAck
	if err := strictDecode(bz, &a); err != nil {
		return TaskAck{}, errorsmod.Wrapf(ErrInvalidPacket, "acknowledgement: %s", err)
	}
	if _, err := a.Numbers(); err != nil {
		return TaskAck{}, errorsmod.Wrap(err, "acknowledgement")
	}
	return a, nil
}
