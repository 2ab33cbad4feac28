package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseID(t *testing.T) {
	id, err := parseServiceID("7")
	require.NoError(t, err)
	require.Equal(t, uint64(7), id)

	for _, s := range []string{"", "-1", "seven", "18446744073709551616"} {
		_, err := parseID("task id", s)
		require.ErrorContains(t, err, `task id "`+s+`": want a whole number`)
	}
}
