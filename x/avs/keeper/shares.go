package keeper

import (
	sdkmath "cosmossdk.io/math"
)

// Share accounting, as the SDK's staking validator keeps its delegators'
// stake (x/staking types/validator.go: Tokens, DelegatorShares,
// SharesFromTokens, TokensFromShares): a pool holds tokens, and its holders
// hold shares of them. A slash lowers the pool's tokens only, so it costs the
// same however many holders the pool has. Every rounding is in the module's
// favour: a deposit mints shares rounded down, a withdrawal burns shares
// rounded up and pays tokens rounded down.
//
// Starting at one share per token, a pool's tokens never exceed its shares
// (a slash lowers tokens; the roundings only lower tokens per share), so a
// deposit of at least one token always mints at least one share. A pool with
// no shares has no tokens: the last shares out take every token left.

// sharesFor returns the shares a deposit of amount mints in a pool holding
// tokens for shares, rounded down. The pool must not hold shares without
// tokens (see Pool.generation).
func sharesFor(amount, tokens, shares sdkmath.Int) sdkmath.Int {
	if shares.IsZero() || tokens.IsZero() {
		return amount
	}
	return amount.Mul(shares).Quo(tokens)
}

// sharesToPay returns the shares to burn to withdraw amount from a pool
// holding tokens for shares, rounded up.
func sharesToPay(amount, tokens, shares sdkmath.Int) sdkmath.Int {
	if tokens.IsZero() {
		return shares
	}
	num := amount.Mul(shares)
	q := num.Quo(tokens)
	if !q.Mul(tokens).Equal(num) {
		q = q.AddRaw(1)
	}
	return q
}

// tokensOf returns what held shares are worth in a pool holding tokens for
// shares, rounded down; all of the tokens for all of the shares.
func tokensOf(held, tokens, shares sdkmath.Int) sdkmath.Int {
	if shares.IsZero() || held.IsZero() {
		return sdkmath.ZeroInt()
	}
	if held.GTE(shares) {
		return tokens
	}
	return held.Mul(tokens).Quo(shares)
}

// cut returns trunc(fraction × tokens): what a slash takes from a pool.
func cut(fraction sdkmath.LegacyDec, tokens sdkmath.Int) sdkmath.Int {
	if fraction.IsNil() || !fraction.IsPositive() {
		return sdkmath.ZeroInt()
	}
	return sdkmath.MinInt(fraction.MulInt(tokens).TruncateInt(), tokens)
}
