package types

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/types/query"
)

// MaxPageLimit is the largest page an x/avs list query returns: a request
// with a larger pagination.limit is refused (ErrPageLimit, gRPC
// InvalidArgument). A request without a limit gets the SDK's default page,
// query.DefaultLimit (100).
const MaxPageLimit = 1000

// EachPage reads a whole list the way a client must: it calls list with a
// page request for the first page, then with each next_key, until a page
// comes back without one. limit 0 asks for the server's default page. It stops
// at list's first error, when ctx ends, or when a server repeats a next_key.
func EachPage(ctx context.Context, limit uint64, list func(ctx context.Context, req *query.PageRequest) (*query.PageResponse, error)) error {
	var key []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := list(ctx, &query.PageRequest{Key: key, Limit: limit})
		if err != nil {
			return err
		}
		if page == nil || len(page.NextKey) == 0 {
			return nil
		}
		if key != nil && bytes.Equal(page.NextKey, key) {
			return fmt.Errorf("pagination: next_key %x repeats", key)
		}
		key = page.NextKey
	}
}
