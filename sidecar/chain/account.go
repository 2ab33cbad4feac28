package chain

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/x/feegrant"

	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	"github.com/cosmos/cosmos-sdk/x/authz"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/avschain/avschain/x/avs/types"
)

// NodeStatus returns the RPC node's /status: its network (chain id), its
// tx indexer setting, its latest block and whether it is catching up.
func (c *Client) NodeStatus(ctx context.Context) (*coretypes.ResultStatus, error) {
	var st *coretypes.ResultStatus
	err := c.withRPC(ctx, "status", func(r *rpchttp.HTTP) (err error) {
		st, err = r.Status(ctx)
		return err
	})
	return st, err
}

// GenesisHash returns the hex sha256 of the genesis document as CometBFT
// serves it in /genesis_chunked: the chunks are base64 of one JSON encoding
// of the node's genesis, the same bytes on every node of a chain (the
// app_state is compacted, so the file's whitespace does not matter).
func (c *Client) GenesisHash(ctx context.Context) (string, error) {
	var sum string
	err := c.withRPC(ctx, "genesis_chunked", func(r *rpchttp.HTTP) error {
		h := sha256.New()
		for id, total := 0, 1; id < total; id++ {
			chunk, err := r.GenesisChunked(ctx, uint(id))
			if err != nil {
				return fmt.Errorf("genesis chunk %d: %w", id, err)
			}
			bz, err := base64.StdEncoding.DecodeString(chunk.Data)
			if err != nil {
				return fmt.Errorf("genesis chunk %d: %w", id, err)
			}
			h.Write(bz)
			total = chunk.TotalChunks
		}
		sum = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return sum, err
}

// Balance returns an account's balance in denom (0 for an account the chain
// does not know; math.MaxUint64 when it does not fit).
func (c *Client) Balance(ctx context.Context, addr, denom string) (uint64, error) {
	var bal uint64
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := banktypes.NewQueryClient(conn).Balance(ctx, &banktypes.QueryBalanceRequest{Address: addr, Denom: denom})
		if err != nil {
			return err
		}
		bal = 0
		if res.Balance != nil {
			if amt := res.Balance.Amount; amt.IsUint64() {
				bal = amt.Uint64()
			} else if amt.IsPositive() {
				bal = math.MaxUint64
			}
		}
		return nil
	})
	return bal, err
}

// AccountExists reports whether the chain knows an account (it has received
// funds or sent a transaction): a vote key must exist to sign.
func (c *Client) AccountExists(ctx context.Context, addr sdk.AccAddress) (bool, error) {
	_, _, err := c.Account(ctx, addr)
	if status.Code(err) == codes.NotFound {
		return false, nil
	}
	return err == nil, err
}

// OperatorInfo returns whether an operator is registered, the services it
// is opted in to and its liveness in each (same order), reading every page
// of Query/Operator.
func (c *Client) OperatorInfo(ctx context.Context, addr string) (registered bool, services []uint64, liveness []types.OperatorLiveness, err error) {
	err = types.EachPage(ctx, types.MaxPageLimit, func(ctx context.Context, page *query.PageRequest) (*query.PageResponse, error) {
		var next *query.PageResponse
		err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
			res, err := types.NewQueryClient(conn).Operator(ctx, &types.QueryOperatorRequest{Address: addr, Pagination: page})
			if err == nil {
				services, liveness, next = append(services, res.ServiceIds...), append(liveness, res.Liveness...), res.Pagination
			}
			return err
		})
		return next, err
	})
	if status.Code(err) == codes.NotFound {
		return false, nil, nil, nil
	}
	if err != nil {
		return false, nil, nil, err
	}
	return true, services, liveness, nil
}

// MinGasPrices returns the gRPC node's minimum-gas-prices (its app.toml),
// read through the SDK's node service (empty when the node sets none).
func (c *Client) MinGasPrices(ctx context.Context) (sdk.DecCoins, error) {
	var prices sdk.DecCoins
	err := c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := nodeservice.NewServiceClient(conn).Config(ctx, &nodeservice.ConfigRequest{})
		if err != nil {
			return err
		}
		if prices, err = sdk.ParseDecCoins(res.MinimumGasPrice); err != nil {
			return fmt.Errorf("node minimum gas price %q: %w", res.MinimumGasPrice, err)
		}
		return nil
	})
	return prices, err
}

// VoteKeyGrants reports whether granter has given grantee an authz grant
// for msgTypeURL and a fee allowance: what a vote key needs to vote for an
// operator.
func (c *Client) VoteKeyGrants(ctx context.Context, granter, grantee, msgTypeURL string) (authzGrant, feeAllowance bool, err error) {
	err = c.withGRPC(ctx, func(conn *grpc.ClientConn) error {
		res, err := authz.NewQueryClient(conn).Grants(ctx, &authz.QueryGrantsRequest{Granter: granter, Grantee: grantee, MsgTypeUrl: msgTypeURL})
		switch {
		case status.Code(err) == codes.NotFound:
			authzGrant = false
		case err != nil:
			return err
		default:
			authzGrant = len(res.Grants) > 0
		}
		_, err = feegrant.NewQueryClient(conn).Allowance(ctx, &feegrant.QueryAllowanceRequest{Granter: granter, Grantee: grantee})
		switch {
		// x/feegrant answers a missing allowance with codes.Internal and
		// feegrant.ErrNoAllowance's text.
		case status.Code(err) == codes.NotFound, err != nil && strings.Contains(err.Error(), feegrant.ErrNoAllowance.Error()):
			feeAllowance = false
		case err != nil:
			return err
		default:
			feeAllowance = true
		}
		return nil
	})
	return authzGrant, feeAllowance, err
}
