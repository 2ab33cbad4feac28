package keeper

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	collcodec "cosmossdk.io/collections/codec"
	"cosmossdk.io/core/address"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/x/avs/types"
)

// Compact state (issue #16). The hottest records, a vote and its tally, are
// written by every vote at 30 gas a byte. They keep an operator as its raw
// address bytes (20, not a 43-character bech32 string) and a digest as its
// 32 raw bytes (not 64 hex characters), and a vote does not repeat what its
// key already says. The Go values are unchanged: the codecs translate.

// addressKey is a collections key codec of a bech32 account address kept as
// its raw bytes: 20 bytes instead of 43 for an operator. It orders by those
// bytes, not by the bech32 string.
type addressKey struct {
	codec address.Codec
	bytes collcodec.KeyCodec[[]byte]
}

func newAddressKey(ac address.Codec) collcodec.KeyCodec[string] {
	return addressKey{codec: ac, bytes: collcodec.NewBytesKey[[]byte]()}
}

func (a addressKey) raw(key string) ([]byte, error) {
	bz, err := a.codec.StringToBytes(key)
	if err != nil {
		return nil, fmt.Errorf("%w: address key %q: %w", collcodec.ErrEncoding, key, err)
	}
	return bz, nil
}

func (a addressKey) str(bz []byte) (string, error) {
	s, err := a.codec.BytesToString(bz)
	if err != nil {
		return "", fmt.Errorf("%w: address key %x: %w", collcodec.ErrEncoding, bz, err)
	}
	return s, nil
}

func (a addressKey) Encode(buffer []byte, key string) (int, error) {
	bz, err := a.raw(key)
	if err != nil {
		return 0, err
	}
	return a.bytes.Encode(buffer, bz)
}

func (a addressKey) Decode(buffer []byte) (int, string, error) {
	n, bz, err := a.bytes.Decode(buffer)
	if err != nil {
		return 0, "", err
	}
	s, err := a.str(bz)
	return n, s, err
}

func (a addressKey) Size(key string) int {
	bz, err := a.raw(key)
	if err != nil {
		return 0 // Encode reports the error
	}
	return len(bz)
}

func (a addressKey) EncodeNonTerminal(buffer []byte, key string) (int, error) {
	bz, err := a.raw(key)
	if err != nil {
		return 0, err
	}
	return a.bytes.EncodeNonTerminal(buffer, bz)
}

func (a addressKey) DecodeNonTerminal(buffer []byte) (int, string, error) {
	n, bz, err := a.bytes.DecodeNonTerminal(buffer)
	if err != nil {
		return 0, "", err
	}
	s, err := a.str(bz)
	return n, s, err
}

func (a addressKey) SizeNonTerminal(key string) int { return a.Size(key) + 1 }

func (addressKey) EncodeJSON(key string) ([]byte, error) { return json.Marshal(key) }

func (addressKey) DecodeJSON(b []byte) (string, error) {
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

func (addressKey) Stringify(key string) string { return key }

func (addressKey) KeyType() string { return "address" }

// voteValue stores a Vote without its task id and operator (the key's) and
// without its digest (the result's sha256, or FailureDigest on a failure
// vote): a vote read back has them restored by restoreVote.
type voteValue struct {
	collcodec.ValueCodec[types.Vote]
}

func newVoteValue(cdc codec.BinaryCodec) collcodec.ValueCodec[types.Vote] {
	return voteValue{codec.CollValue[types.Vote](cdc)}
}

func (c voteValue) Encode(v types.Vote) ([]byte, error) {
	v.TaskId, v.Operator, v.Digest = 0, "", ""
	return c.ValueCodec.Encode(v)
}

// restoreVote fills in what voteValue leaves out of a stored vote.
func restoreVote(taskID uint64, operator string, v types.Vote) types.Vote {
	v.TaskId, v.Operator = taskID, operator
	v.Digest = types.VoteDigest(v.Result, v.Failure)
	return v
}

// rawDigest is a hex digest as its raw bytes, for a key; any other string
// (FailureDigest) as it is. The two never collide: a raw digest is 32 bytes.
func rawDigest(d string) string {
	if len(d) == 64 {
		if bz, err := hex.DecodeString(d); err == nil {
			return string(bz)
		}
	}
	return d
}

// taskValue stores a Task with its creator as raw address bytes, its
// component digest as raw bytes, on a completed task no result digest (the
// result's sha256), and no zero handler deposit (restored as zero in the
// fee's denom). The stored form is a 0x00 byte (which no protobuf
// encoding starts with), a flags byte, the raw creator and digest each after
// its length, then the Task's protobuf encoding without them. A task whose
// fields do not parse so (as tests may write) is stored as plain protobuf.
type taskValue struct {
	collcodec.ValueCodec[types.Task]
	addr address.Codec
}

// NewTaskValue is the value codec of the Tasks collection (the store
// decoder of x/avs/simulation reads tasks with it).
func NewTaskValue(cdc codec.BinaryCodec, ac address.Codec) collcodec.ValueCodec[types.Task] {
	return taskValue{ValueCodec: codec.CollValue[types.Task](cdc), addr: ac}
}

const (
	taskRawCreator = 1 << iota
	taskRawComponent
	taskDerivedResultDigest
	taskZeroDeposit // a zero handler deposit in the fee's denom: not stored
)

func (c taskValue) Encode(t types.Task) ([]byte, error) {
	var flags byte
	creator, err := c.addr.StringToBytes(t.Creator)
	if err == nil && t.Creator != "" && len(creator) <= 255 {
		flags |= taskRawCreator
		t.Creator = ""
	} else {
		creator = nil
	}
	component, err := hex.DecodeString(t.ComponentDigest)
	if err == nil && len(component) == 32 && hex.EncodeToString(component) == t.ComponentDigest {
		flags |= taskRawComponent
		t.ComponentDigest = ""
	} else {
		component = nil
	}
	if t.Status == types.TASK_STATUS_COMPLETED && t.ResultDigest == types.Digest(t.Result) {
		flags |= taskDerivedResultDigest
		t.ResultDigest = ""
	}
	if (t.HandlerDeposit.Amount.IsNil() || t.HandlerDeposit.Amount.IsZero()) && t.HandlerDeposit.Denom == t.Fee.Denom {
		flags |= taskZeroDeposit
		t.HandlerDeposit = sdk.Coin{}
	}
	bz, err := c.ValueCodec.Encode(t)
	if err != nil || flags == 0 {
		return bz, err
	}
	out := make([]byte, 0, 4+len(creator)+len(component)+len(bz))
	out = append(out, 0, flags, byte(len(creator)))
	out = append(out, creator...)
	out = append(out, byte(len(component)))
	out = append(out, component...)
	return append(out, bz...), nil
}

func (c taskValue) Decode(b []byte) (types.Task, error) {
	if len(b) == 0 || b[0] != 0 {
		return c.ValueCodec.Decode(b)
	}
	bad := func() (types.Task, error) {
		return types.Task{}, fmt.Errorf("%w: compact task of %d bytes", collcodec.ErrEncoding, len(b))
	}
	if len(b) < 3 {
		return bad()
	}
	flags, rest := b[1], b[2:]
	field := func() ([]byte, bool) {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, false
		}
		f := rest[1 : 1+int(rest[0])]
		rest = rest[1+int(rest[0]):]
		return f, true
	}
	creator, ok1 := field()
	component, ok2 := field()
	if !ok1 || !ok2 {
		return bad()
	}
	t, err := c.ValueCodec.Decode(rest)
	if err != nil {
		return t, err
	}
	if flags&taskRawCreator != 0 {
		if t.Creator, err = c.addr.BytesToString(creator); err != nil {
			return t, err
		}
	}
	if flags&taskRawComponent != 0 {
		t.ComponentDigest = hex.EncodeToString(component)
	}
	if flags&taskDerivedResultDigest != 0 {
		t.ResultDigest = types.Digest(t.Result)
	}
	if flags&taskZeroDeposit != 0 {
		t.HandlerDeposit = sdk.Coin{Denom: t.Fee.Denom, Amount: sdkmath.ZeroInt()} // no denom check: as it was stored
	}
	return t, nil
}
