package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The commitments command pages like autocli's: --page-* flags, the key in
// hex or base64 (the JSON output's next_key).
func TestCommitmentsCmdPageFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantKey []byte
		wantErr string
	}{
		{name: "no key", args: []string{"--page-limit", "7"}},
		{name: "hex key", args: []string{"--page-key", "6e657874", "--page-limit", "7"}, wantKey: []byte("next")},
		{name: "base64 key", args: []string{"--page-key", "bmV4dA==", "--page-limit", "7"}, wantKey: []byte("next")},
		{name: "neither", args: []string{"--page-key", "not a key!", "--page-limit", "7"}, wantErr: "neither hex nor base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := CommitmentsCmd()
			for _, f := range []string{"page-key", "page-limit", "page-offset", "page-count-total", "page-reverse"} {
				require.NotNil(t, cmd.Flags().Lookup(f), "--%s", f)
			}
			require.NoError(t, cmd.ParseFlags(tc.args))
			page, err := readPageRequest(cmd)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, uint64(7), page.Limit)
			require.Equal(t, tc.wantKey, page.Key)
		})
	}
}
