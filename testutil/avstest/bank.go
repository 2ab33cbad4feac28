package avstest

import (
	"context"
	"fmt"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// Bank is an in-memory ledger implementing x/avs's BankKeeper for keeper unit
// tests. Module accounts are keyed by their derived address, as in x/bank.
type Bank struct {
	Balances map[string]sdk.Coins
}

// NewBank returns an empty ledger.
func NewBank() *Bank { return &Bank{Balances: map[string]sdk.Coins{}} }

// Fund credits coins to an account.
func (b *Bank) Fund(addr sdk.AccAddress, coins sdk.Coins) {
	b.Balances[addr.String()] = b.Balances[addr.String()].Add(coins...)
}

// Balance returns an account's balance of denom.
func (b *Bank) Balance(addr sdk.AccAddress, denom string) sdk.Coin {
	return sdk.NewCoin(denom, b.Balances[addr.String()].AmountOf(denom))
}

// ModuleBalance returns a module account's balance of denom.
func (b *Bank) ModuleBalance(module, denom string) sdk.Coin {
	return b.Balance(authtypes.NewModuleAddress(module), denom)
}

// Total returns the sum of every balance of denom: it never changes.
func (b *Bank) Total(denom string) sdk.Coin {
	total := sdk.NewInt64Coin(denom, 0)
	for _, c := range b.Balances {
		total = total.AddAmount(c.AmountOf(denom))
	}
	return total
}

func (b *Bank) move(from, to sdk.AccAddress, amt sdk.Coins) error {
	if !amt.IsValid() {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidCoins, "%s", amt)
	}
	have := b.Balances[from.String()]
	rest, neg := have.SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "spendable balance %s is smaller than %s", have, amt)
	}
	b.Balances[from.String()] = rest
	b.Balances[to.String()] = b.Balances[to.String()].Add(amt...)
	return nil
}

// SendCoinsFromAccountToModule implements types.BankKeeper.
func (b *Bank) SendCoinsFromAccountToModule(_ context.Context, sender sdk.AccAddress, module string, amt sdk.Coins) error {
	return b.move(sender, authtypes.NewModuleAddress(module), amt)
}

// SendCoinsFromModuleToAccount implements types.BankKeeper.
func (b *Bank) SendCoinsFromModuleToAccount(_ context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error {
	if err := b.move(authtypes.NewModuleAddress(module), to, amt); err != nil {
		return fmt.Errorf("module %s: %w", module, err)
	}
	return nil
}

// SendCoinsFromModuleToModule implements types.BankKeeper.
func (b *Bank) SendCoinsFromModuleToModule(_ context.Context, from, to string, amt sdk.Coins) error {
	if err := b.move(authtypes.NewModuleAddress(from), authtypes.NewModuleAddress(to), amt); err != nil {
		return fmt.Errorf("module %s: %w", from, err)
	}
	return nil
}

// BurnCoins implements types.BankKeeper: the coins leave the module account
// and the ledger (Total falls by them; Burned counts them).
func (b *Bank) BurnCoins(_ context.Context, module string, amt sdk.Coins) error {
	if err := b.move(authtypes.NewModuleAddress(module), burnAddr, amt); err != nil {
		return fmt.Errorf("burn from module %s: %w", module, err)
	}
	return nil
}

// burnAddr collects burned coins so that Total still accounts for them.
var burnAddr = sdk.AccAddress("burned______________")

// Burned returns what was burned of denom.
func (b *Bank) Burned(denom string) sdk.Coin { return b.Balance(burnAddr, denom) }

// GetBalance implements types.BankKeeper.
func (b *Bank) GetBalance(_ context.Context, addr sdk.AccAddress, denom string) sdk.Coin {
	return b.Balance(addr, denom)
}
