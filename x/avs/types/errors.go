package types

import errorsmod "cosmossdk.io/errors"

// x/avs errors. Codes start at 2 and are never renumbered: clients branch on them.
var (
	ErrUnauthorized   = errorsmod.Register(ModuleName, 2, "signer is not authorized")
	ErrInvalidParams  = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrInvalidGenesis = errorsmod.Register(ModuleName, 4, "invalid genesis state")
	ErrInvalidAddress = errorsmod.Register(ModuleName, 5, "invalid address")
)
