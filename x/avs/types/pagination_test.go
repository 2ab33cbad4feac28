package types_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/avschain/avschain/x/avs/types"
)

func TestEachPage(t *testing.T) {
	pages := [][]byte{{1}, {2}, nil}
	tests := []struct {
		name     string
		next     func(call int) []byte
		listErr  error
		wantErr  string
		wantKeys [][]byte
	}{
		{
			name:     "follows next_key to the last page",
			next:     func(call int) []byte { return pages[call] },
			wantKeys: [][]byte{nil, {1}, {2}},
		},
		{
			name:     "a repeated next_key stops it",
			next:     func(int) []byte { return []byte{7} },
			wantErr:  "repeats",
			wantKeys: [][]byte{nil, {7}},
		},
		{
			name:     "the first error stops it",
			next:     func(int) []byte { return []byte{1} },
			listErr:  errors.New("boom"),
			wantErr:  "boom",
			wantKeys: [][]byte{nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var keys [][]byte
			err := types.EachPage(context.Background(), 7, func(_ context.Context, req *query.PageRequest) (*query.PageResponse, error) {
				require.Equal(t, uint64(7), req.Limit)
				keys = append(keys, req.Key)
				if tc.listErr != nil {
					return nil, tc.listErr
				}
				return &query.PageResponse{NextKey: tc.next(len(keys) - 1)}, nil
			})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.wantKeys, keys)
		})
	}
}
