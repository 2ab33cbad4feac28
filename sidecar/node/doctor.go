package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/avschain/avschain/sidecar/config"
	"github.com/avschain/avschain/x/avs/types"
)

// Severity says what a Problem does to the sidecar.
type Severity string

const (
	// Fatal problems stop `start`: running would be wrong, not just idle.
	Fatal Severity = "fatal"
	// Warn problems stop or endanger voting until fixed; the sidecar runs.
	Warn Severity = "warn"
	// Info is worth knowing and needs no fix.
	Info Severity = "info"
)

// Problem is one finding of Check: what is wrong and what to do.
type Problem struct {
	Severity Severity `json:"severity"`
	What     string   `json:"what"`
	Fix      string   `json:"fix,omitempty"`
}

func (p Problem) String() string {
	if p.Fix == "" {
		return fmt.Sprintf("%s: %s", p.Severity, p.What)
	}
	return fmt.Sprintf("%s: %s; fix: %s", p.Severity, p.What, p.Fix)
}

// HasFatal reports whether any problem is fatal.
func HasFatal(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == Fatal })
}

// DoctorChain is what Check reads (chain.Client).
type DoctorChain interface {
	NodeStatus(ctx context.Context) (*coretypes.ResultStatus, error)
	BlockResults(ctx context.Context, height int64) (*coretypes.ResultBlockResults, error)
	OperatorInfo(ctx context.Context, addr string) (bool, []uint64, []types.OperatorLiveness, error)
	Balance(ctx context.Context, addr, denom string) (uint64, error)
	AccountExists(ctx context.Context, addr sdk.AccAddress) (bool, error)
	MinGasPrices(ctx context.Context) (sdk.DecCoins, error)
	VoteKeyGrants(ctx context.Context, granter, grantee, msgTypeURL string) (bool, bool, error)
}

// Subject is who Check examines.
type Subject struct {
	// Operator is the operator's address; Signer the key that signs the
	// votes (the operator's own, or a vote key).
	Operator string
	Signer   sdk.AccAddress
	// GasPrices are the prices the votes pay (gas_prices, or the node's
	// minimum when it is empty).
	GasPrices sdk.DecCoins
}

// Fee estimate behind the balance check: a one-vote transaction simulates
// at about estVoteTxGas, is adjusted by gas_adjustment and carries the
// vote's reserve. CheckVotes transactions' worth is asked for.
const (
	estVoteTxGas = 150_000
	CheckVotes   = 100
)

// FeeDenom is the denom fees are paid in: the first of the gas prices, or
// uavs.
func FeeDenom(prices sdk.DecCoins) string {
	if len(prices) > 0 {
		return prices[0].Denom
	}
	return "uavs"
}

// VoteTxCost estimates what txs one-vote transactions cost at prices.
func VoteTxCost(cfg config.Config, prices sdk.DecCoins, txs uint64) uint64 {
	gas := uint64(float64(estVoteTxGas)*cfg.GasAdjustment) + uint64(max(cfg.VoteGasReserve, 0))
	price := prices.AmountOf(FeeDenom(prices))
	return price.MulInt64(int64(gas)).Ceil().TruncateInt().Uint64() * txs
}

// Check examines, through c, every condition that would stop the operator
// voting (issue #15 item 12) and returns one Problem each, in a stable
// order. It never fails: an unreadable fact is a problem too.
func Check(ctx context.Context, c DoctorChain, cfg config.Config, s Subject) []Problem {
	var ps []Problem
	add := func(sev Severity, fix, what string, args ...any) {
		ps = append(ps, Problem{Severity: sev, What: fmt.Sprintf(what, args...), Fix: fix})
	}
	call := func(f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, callBudget(cfg))
		defer cancel()
		return f(ctx)
	}

	// The node.
	var st *coretypes.ResultStatus
	if err := call(func(ctx context.Context) (err error) { st, err = c.NodeStatus(ctx); return err }); err != nil {
		add(Warn, "start the node, or fix rpc_endpoints; the sidecar waits for a node at start",
			"no RPC node of %v answers /status: %v", cfg.RPCEndpoints, err)
	} else {
		if st.NodeInfo.Network != cfg.ChainID {
			add(Fatal, fmt.Sprintf("point rpc_endpoints and grpc_endpoints at a node of %q, or set chain_id to %q if that is the chain meant", cfg.ChainID, st.NodeInfo.Network),
				"the node serves chain %q but chain_id is %q", st.NodeInfo.Network, cfg.ChainID)
		}
		if st.SyncInfo.CatchingUp {
			add(Warn, "wait for it to sync, or use a synced node first in rpc_endpoints",
				"the node is catching up (at height %d, block time %s): tasks are seen late", st.SyncInfo.LatestBlockHeight, st.SyncInfo.LatestBlockTime.UTC().Format(time.RFC3339))
		}
		if st.NodeInfo.Other.TxIndex == "off" {
			add(Info, "", "the node has no tx index (tx_index off): fine, votes are confirmed from block results")
		}
		h := st.SyncInfo.LatestBlockHeight
		if err := call(func(ctx context.Context) error { _, err := c.BlockResults(ctx, h); return err }); err != nil {
			add(Warn, "use a node that keeps block results: [storage] discard_abci_responses = false in its config.toml, and no pruning below the sidecar's cursor",
				"the node cannot serve the block results of height %d (%v): the sidecar finds tasks and confirms votes in them", h, err)
		}
	}

	// The operator.
	var (
		registered bool
		ids        []uint64
		live       []types.OperatorLiveness
	)
	if err := call(func(ctx context.Context) (err error) {
		registered, ids, live, err = c.OperatorInfo(ctx, s.Operator)
		return err
	}); err != nil {
		add(Warn, "check grpc_endpoints", "could not read operator %s: %v", s.Operator, err)
	} else if !registered {
		add(Warn, "avsd tx avs register-operator <moniker> --commission 0.1 --from <operator key>, then opt in to services",
			"operator %s is not registered: it votes on nothing", s.Operator)
	} else {
		if len(ids) == 0 {
			add(Warn, "avsd tx avs opt-in <service-id> --from <operator key>", "operator %s is opted in to no service: it votes on nothing", s.Operator)
		}
		filter := cfg.Services.Set()
		for i, id := range ids {
			if filter != nil && !filter[id] {
				add(Warn, fmt.Sprintf("add %d to services (services = %q), or opt out: avsd tx avs opt-out %d --from <operator key>", id, cfg.Services, id),
					"opted in to service %d but the services setting leaves it out: its tasks count as missed and jail the operator", id)
			}
			if i < len(live) && live[i].Jailed {
				add(Warn, fmt.Sprintf("after %s: avsd tx avs unjail %d --from <operator key>", live[i].JailedUntil.UTC().Format(time.RFC3339), id),
					"jailed on service %d (missed %d of the last %d tasks): out of its snapshots, its votes do not count", id, live[i].WindowMissed, live[i].WindowTasks)
			}
		}
		for _, id := range cfg.Services {
			if !slices.Contains(ids, id) {
				add(Info, "", "services lists %d, to which the operator is not opted in: nothing runs for it", id)
			}
		}
	}

	// The accounts: the signer must exist to sign; the operator pays.
	exists := func(addr sdk.AccAddress) (bool, error) {
		var ok bool
		err := call(func(ctx context.Context) (err error) { ok, err = c.AccountExists(ctx, addr); return err })
		return ok, err
	}
	denom := FeeDenom(s.GasPrices)
	voteKey := s.Signer.String() != s.Operator
	if ok, err := exists(s.Signer); err != nil {
		add(Warn, "check grpc_endpoints", "could not read account %s: %v", s.Signer, err)
	} else if !ok && voteKey {
		add(Warn, fmt.Sprintf("avsd tx bank send <operator key> %s 1%s (any amount creates it)", s.Signer, denom),
			"the vote key's account %s does not exist on chain: it cannot sign", s.Signer)
	} else if !ok {
		add(Warn, fmt.Sprintf("send it funds: avsd tx bank send <funded key> %s %d%s", s.Signer, max(VoteTxCost(cfg, s.GasPrices, CheckVotes), 1), denom),
			"the operator's account %s does not exist on chain (never funded): it cannot sign", s.Signer)
	}
	if voteKey {
		authzOK, feeOK, err := c.VoteKeyGrants(ctx, s.Operator, s.Signer.String(), sdk.MsgTypeURL(&types.MsgSubmitResults{}))
		switch {
		case err != nil:
			add(Warn, "check grpc_endpoints", "could not read the vote key's grants: %v", err)
		default:
			if !authzOK {
				add(Warn, fmt.Sprintf("avsd tx authz grant %s generic --msg-type %s --from <operator key>", s.Signer, sdk.MsgTypeURL(&types.MsgSubmitResults{})),
					"operator %s has not authorized the vote key %s to submit results: every vote is refused", s.Operator, s.Signer)
			}
			if !feeOK {
				add(Warn, fmt.Sprintf("avsd tx feegrant grant <operator key> %s --allowed-messages /cosmos.authz.v1beta1.MsgExec", s.Signer),
					"operator %s grants the vote key %s no fee allowance: it cannot pay for votes", s.Operator, s.Signer)
			}
		}
	}
	need := VoteTxCost(cfg, s.GasPrices, CheckVotes)
	var bal uint64
	if err := call(func(ctx context.Context) (err error) { bal, err = c.Balance(ctx, s.Operator, denom); return err }); err != nil {
		add(Warn, "check grpc_endpoints", "could not read the balance of %s: %v", s.Operator, err)
	} else if bal < need {
		add(Warn, fmt.Sprintf("avsd tx bank send <funded key> %s %d%s", s.Operator, need-bal, denom),
			"operator %s holds %d%s, less than about %d vote transactions cost at gas prices %s (%d%s): voting stops when it runs out",
			s.Operator, bal, denom, CheckVotes, pricesOrZero(s.GasPrices), need, denom)
	}

	// The node's minimum gas price.
	var minPrices sdk.DecCoins
	if err := call(func(ctx context.Context) (err error) { minPrices, err = c.MinGasPrices(ctx); return err }); err != nil {
		add(Warn, "check grpc_endpoints", "could not read the node's minimum gas prices: %v", err)
	} else if !PaysMinimum(s.GasPrices, minPrices) {
		add(Warn, fmt.Sprintf(`set gas_prices to at least %s, or to "" to use the node's minimum`, minPrices),
			"gas prices %s are below the node's minimum-gas-prices %s: it refuses every vote (insufficient fee)", pricesOrZero(s.GasPrices), minPrices)
	}
	return ps
}

// PaysMinimum reports whether a fee at prices passes a node's
// minimum-gas-prices: as the SDK's mempool fee check, it must reach the
// minimum in at least one of its denoms (a zero minimum asks nothing).
func PaysMinimum(prices, minimum sdk.DecCoins) bool {
	if minimum.IsZero() {
		return true
	}
	for _, m := range minimum {
		if m.Amount.IsPositive() && prices.AmountOf(m.Denom).GTE(m.Amount) {
			return true
		}
	}
	return false
}

func pricesOrZero(p sdk.DecCoins) string {
	if p.IsZero() {
		return "0"
	}
	return p.String()
}
