package types

import errorsmod "cosmossdk.io/errors"

// x/avs errors. Codes start at 2 and are never renumbered: clients branch on them.
var (
	ErrUnauthorized      = errorsmod.Register(ModuleName, 2, "signer is not authorized")
	ErrInvalidParams     = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrInvalidGenesis    = errorsmod.Register(ModuleName, 4, "invalid genesis state")
	ErrInvalidAddress    = errorsmod.Register(ModuleName, 5, "invalid address")
	ErrInvalidComponent  = errorsmod.Register(ModuleName, 6, "invalid wasm component")
	ErrComponentTooLarge = errorsmod.Register(ModuleName, 7, "component too large")
	ErrComponentNotFound = errorsmod.Register(ModuleName, 8, "component not found")
	ErrInvalidManifest   = errorsmod.Register(ModuleName, 9, "invalid service manifest")
	ErrServiceNotFound   = errorsmod.Register(ModuleName, 10, "service not found")
	ErrNotServiceOwner   = errorsmod.Register(ModuleName, 11, "signer is not the service owner")
	ErrOperatorExists    = errorsmod.Register(ModuleName, 12, "operator already registered")
	ErrOperatorNotFound  = errorsmod.Register(ModuleName, 13, "operator not registered")
	ErrAlreadyOptedIn    = errorsmod.Register(ModuleName, 14, "operator already opted in")
	ErrNotOptedIn        = errorsmod.Register(ModuleName, 15, "operator not opted in")
	ErrNotAllowlisted    = errorsmod.Register(ModuleName, 16, "operator not on the service allow-list")
	ErrServicePaused     = errorsmod.Register(ModuleName, 17, "service is paused")
	ErrInputTooLarge     = errorsmod.Register(ModuleName, 18, "task input too large")
	ErrInsufficientFee   = errorsmod.Register(ModuleName, 19, "task fee below the service's fee")
	ErrTaskNotFound      = errorsmod.Register(ModuleName, 20, "task not found")
	ErrDuplicateVote     = errorsmod.Register(ModuleName, 21, "operator already voted on this task")
	ErrVotingClosed      = errorsmod.Register(ModuleName, 22, "task no longer takes votes")
	ErrOperatorJailed    = errorsmod.Register(ModuleName, 23, "operator is jailed")
	ErrResultTooLarge    = errorsmod.Register(ModuleName, 24, "result too large")
	ErrInvalidResult     = errorsmod.Register(ModuleName, 25, "invalid result")
	ErrTooManyResults    = errorsmod.Register(ModuleName, 26, "wrong number of results")
	ErrNoOperators       = errorsmod.Register(ModuleName, 27, "service has no operators")
	ErrInvalidFee        = errorsmod.Register(ModuleName, 28, "invalid fee")
	ErrInvalidRequest    = errorsmod.Register(ModuleName, 29, "invalid request")
	ErrInvalidAmount     = errorsmod.Register(ModuleName, 30, "invalid amount")
	ErrWrongDenom        = errorsmod.Register(ModuleName, 31, "wrong denom")
	ErrInsufficientStake = errorsmod.Register(ModuleName, 32, "uncommit exceeds the commitment")
	ErrNoRewards         = errorsmod.Register(ModuleName, 33, "no rewards to withdraw")
	ErrNotJailed         = errorsmod.Register(ModuleName, 34, "operator is not jailed")
	ErrUnjailTooEarly    = errorsmod.Register(ModuleName, 35, "jail cooldown has not passed")
	ErrTreasuryEmpty     = errorsmod.Register(ModuleName, 36, "service treasury cannot pay the task fee")
	ErrStakeTooLarge     = errorsmod.Register(ModuleName, 37, "stake exceeds the largest power")
	ErrInvalidPacket     = errorsmod.Register(ModuleName, 38, "invalid IBC packet")
	ErrInvalidChannel    = errorsmod.Register(ModuleName, 39, "invalid IBC channel")
	ErrChannelNotAllowed = errorsmod.Register(ModuleName, 40, "channel may not request tasks from this service")
	ErrAutoTaskLimit     = errorsmod.Register(ModuleName, 41, "max_auto_tasks_per_block reached for this service")
	ErrInvalidEventRef   = errorsmod.Register(ModuleName, 42, "invalid event reference")
	ErrInvalidCommission = errorsmod.Register(ModuleName, 43, "invalid commission")
	ErrInvalidMoniker    = errorsmod.Register(ModuleName, 44, "invalid moniker")
	ErrHookTaskLimit     = errorsmod.Register(ModuleName, 52, "max_hook_tasks_per_block reached")
	// ErrTaskPruned: the task existed, ended and was deleted
	// task_retention_blocks after its deadline (L-9).
	ErrTaskPruned = errorsmod.Register(ModuleName, 51, "task pruned")
	// ErrFreeTrigger refuses a manifest whose triggers would open tasks
	// nobody pays for (security review H-5).
	ErrFreeTrigger = errorsmod.Register(ModuleName, 45, "a service with triggers needs fee_per_task > 0")
	// ErrIBCRateLimit refuses a task request over a channel's
	// ibc_requests_per_channel_per_block (security review M-7).
	ErrIBCRateLimit = errorsmod.Register(ModuleName, 46, "ibc_requests_per_channel_per_block reached for this channel")
	// ErrGzipRatio refuses a gzip upload that inflates beyond max_gzip_ratio
	// times its compressed size (security review M-1).
	ErrGzipRatio = errorsmod.Register(ModuleName, 47, "gzip upload inflates beyond max_gzip_ratio")
)

// ErrInvalidFailure refuses a failure vote with an unknown reason or a
// result (security review H-2).
var ErrInvalidFailure = errorsmod.Register(ModuleName, 53, "invalid failure vote")

// ErrEventOpenLimit refuses an event-trigger vote that would open a second
// task of one service in one block for the same operator: an operator opens
// at most one event task per service per block (security review M-3).
var ErrEventOpenLimit = errorsmod.Register(ModuleName, 59, "an operator may open one event task per service per block")

// ErrServiceRevisionNotFound: no manifest is stored for this (service,
// revision) (security review H-3).
var ErrServiceRevisionNotFound = errorsmod.Register(ModuleName, 55, "service revision not found")

// ErrEqualWeightingOpen refuses EQUAL weighting where any registered
// operator may opt in without stake: power would be free (security review
// H-6).
var ErrEqualWeightingOpen = errorsmod.Register(ModuleName, 57, "EQUAL weighting needs ADMISSION_ALLOWLIST or min_self_stake > 0")

// ErrWeakThreshold refuses a quorum threshold of at most 1/2: two disjoint
// quorums could each accept a different result, and a MEDIAN minority could
// choose the value (security review M-6).
var ErrWeakThreshold = errorsmod.Register(ModuleName, 58, "quorum threshold must be above 1/2")

// ErrPageLimit is a query page larger than MaxPageLimit (security review L-10).
var ErrPageLimit = errorsmod.Register(ModuleName, 50, "page limit exceeds the maximum")

// ErrTooManyTasks refuses a MsgCreateTasks with no input or more than
// max_tasks_per_msg.
var ErrTooManyTasks = errorsmod.Register(ModuleName, 60, "wrong number of task inputs")

// ErrVoteMode refuses an entry of MsgSubmitResults that does not fit its
// task's vote mode (issue #20): a commitment or a salt on an OPEN task, a vote
// in the clear on a COMMIT_REVEAL task, or a commitment or salt of the wrong
// length.
var ErrVoteMode = errorsmod.Register(ModuleName, 61, "entry does not fit the task's vote mode")

// ErrCommitClosed refuses a commitment after the task's commit phase closed
// (committed power met the quorum, or commit_deadline_height passed).
var ErrCommitClosed = errorsmod.Register(ModuleName, 62, "commit phase closed")

// ErrRevealTooEarly refuses a reveal while the task's commit phase is open:
// reveals are accepted from the block after it closes.
var ErrRevealTooEarly = errorsmod.Register(ModuleName, 63, "commit phase still open: reveal from the block after it closes")

// ErrNoCommitment refuses a reveal from an operator that made no commitment
// on the task.
var ErrNoCommitment = errorsmod.Register(ModuleName, 64, "no commitment to reveal")

// ErrRevealMismatch is a reveal whose outcome and salt do not hash to the
// operator's commitment: a fault, slashed as a losing vote where the service
// slashes, and the commitment is spent.
var ErrRevealMismatch = errorsmod.Register(ModuleName, 65, "reveal does not match the commitment")
