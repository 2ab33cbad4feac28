package types_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/avschain/avschain/x/avs/types"
)

// TestDecodeManifestJSONNamesTheField: a manifest the codec cannot read, or
// would read otherwise than written, is refused with the path of the first
// mistake and what to write instead.
func TestDecodeManifestJSONNamesTheField(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	base := string(readExample(t, "triggers.json"))

	testCases := []struct {
		name string
		// old is replaced by new in examples/manifests/triggers.json.
		old, new string
		// errContains are all in the error.
		errContains []string
	}{
		{
			name:        "unquoted decimal",
			old:         `"threshold": "0.67"`,
			new:         `"threshold": 0.67`,
			errContains: []string{`quorum.threshold: a decimal must be a quoted string: write "0.67", not 0.67`},
		},
		{
			name:        "bad decimal",
			old:         `"allowed_spread": "0.01"`,
			new:         `"allowed_spread": "1%"`,
			errContains: []string{`aggregation.allowed_spread: "1%" is not a decimal`, `"0.67"`},
		},
		{
			name:        "unquoted amount",
			old:         `"amount": "2000"`,
			new:         `"amount": 2000`,
			errContains: []string{`fee_per_task.amount: a big integer must be a quoted string: write "2000", not 2000`},
		},
		{
			name:        "decimal amount",
			old:         `"min_self_stake": "0"`,
			new:         `"min_self_stake": "0.5"`,
			errContains: []string{`min_self_stake: "0.5" is not an integer`},
		},
		{
			name:        "number for an enum",
			old:         `"weighting": "WEIGHTING_EQUAL"`,
			new:         `"weighting": 0`,
			errContains: []string{`quorum.weighting: name the value, one of "WEIGHTING_EQUAL", "WEIGHTING_STAKE", rather than the number 0`},
		},
		{
			name:        "bad enum name",
			old:         `"mode": "AGGREGATION_MODE_MEDIAN"`,
			new:         `"mode": "MEDIAN"`,
			errContains: []string{`aggregation.mode: "MEDIAN" is not one of "AGGREGATION_MODE_EXACT", "AGGREGATION_MODE_MEDIAN"`},
		},
		{
			name:        "string for a repeated",
			old:         `"http_allow_list": ["prices.example.org"]`,
			new:         `"http_allow_list": "prices.example.org"`,
			errContains: []string{`limits.http_allow_list: must be a list [...], got the string "prices.example.org"`},
		},
		{
			name:        "unknown nested field",
			old:         `"every": "100"`,
			new:         `"every": "100", "offset": "3"`,
			errContains: []string{`triggers[0].block_interval.offset: unknown field "offset"`, "every, start, end"},
		},
		{
			name:        "unknown top-level field",
			old:         `"name": "atom-usd-feed"`,
			new:         `"name": "atom-usd-feed", "colour": "blue"`,
			errContains: []string{`colour: unknown field "colour" (a manifest has name, component_digest, config`},
		},
		{
			name:        "number for a string",
			old:         `"value": "price"`,
			new:         `"value": 7`,
			errContains: []string{`config[1].value: must be a string in quotes, got the number 7`},
		},
		{
			name:        "negative 64-bit integer",
			old:         `"time_ms": "10000"`,
			new:         `"time_ms": "-1"`,
			errContains: []string{`limits.time_ms: must be a whole number from 0 to 18446744073709551615`, `"-1"`},
		},
		{
			name:        "fraction for a 32-bit integer",
			old:         `"memory_pages": 512`,
			new:         `"memory_pages": 1.5`,
			errContains: []string{`limits.memory_pages: must be a whole number from 0 to 4294967295, a number; got the number 1.5`},
		},
		{
			name:        "object for a scalar",
			old:         `"schedule": "0 * * * *"`,
			new:         `"schedule": {"minute": 0}`,
			errContains: []string{`triggers[1].cron.schedule: must be a string in quotes, got an object`},
		},
		{
			name:        "scalar for a message",
			old:         `{"cron": {"schedule": "0 * * * *"}}`,
			new:         `{"cron": "0 * * * *"}`,
			errContains: []string{`triggers[1].cron: must be a JSON object {…}, got the string "0 * * * *"`},
		},
		{
			name:        "two kinds in one trigger",
			old:         `{"cron": {"schedule": "0 * * * *"}}`,
			new:         `{"cron": {"schedule": "0 * * * *"}, "event": {"type": "tick"}}`,
			errContains: []string{`triggers[1]: set one of block_interval, cron, event, not both "cron" and "event"`},
		},
		{
			name:        "a key twice",
			old:         `"task_timeout": "30"`,
			new:         `"task_timeout": "30", "task_timeout": "40"`,
			errContains: []string{`task_timeout: appears twice`},
		},
		{
			name:        "a key in both spellings",
			old:         `"task_timeout": "30"`,
			new:         `"task_timeout": "30", "taskTimeout": "40"`,
			errContains: []string{`taskTimeout: given twice, as "task_timeout" and "taskTimeout"`},
		},
		{
			name:        "syntax error",
			old:         `"task_timeout": "30",`,
			new:         `"task_timeout": "30",,`,
			errContains: []string{"line 24, column 24: invalid character ','"},
		},
		{
			name:        "trailing data",
			old:         `"commit_blocks": "0"` + "\n}",
			new:         `"commit_blocks": "0"` + "\n}\n{}",
			errContains: []string{"line 40, column 1: more follows the manifest's closing brace"},
		},
		{
			name:        "deep nesting",
			old:         `"config": [`,
			new:         `"config": [` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,`,
			errContains: []string{"the JSON nests deeper than 32 levels"},
		},
		{
			name:        "truncated",
			old:         `"commit_blocks": "0"` + "\n}",
			new:         `"commit_blocks": "0"`,
			errContains: []string{"the JSON ends early"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(base, tc.old), "the change applies once")
			_, err := types.DecodeManifestJSON(cdc, []byte(strings.Replace(base, tc.old, tc.new, 1)))
			require.ErrorIs(t, err, types.ErrInvalidManifest)
			for _, s := range tc.errContains {
				require.Contains(t, err.Error(), s)
			}
		})
	}

	t.Run("lowerCamelCase names and numbers for 64-bit integers are read, as the codec reads them", func(t *testing.T) {
		in := strings.Replace(base, `"task_timeout": "30"`, `"taskTimeout": 30`, 1)
		in = strings.Replace(in, `"time_ms": "10000"`, `"time_ms": 10000`, 1)
		m, err := types.DecodeManifestJSON(cdc, []byte(in))
		require.NoError(t, err)
		require.Equal(t, uint64(30), m.TaskTimeout)
		require.Equal(t, uint64(10000), m.Limits.TimeMs)
	})

	t.Run("null leaves a field unset", func(t *testing.T) {
		m, err := types.DecodeManifestJSON(cdc, []byte(strings.Replace(base, `"handler_contract": ""`, `"handler_contract": null`, 1)))
		require.NoError(t, err)
		require.Empty(t, m.HandlerContract)
	})
}

// FuzzDecodeManifestJSON: no input panics the decoder, a refusal is an
// ErrInvalidManifest, and a manifest it accepts is the one the codec reads.
func FuzzDecodeManifestJSON(f *testing.F) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	for _, ex := range exampleManifests {
		bz, err := os.ReadFile(filepath.Join(examplesDir, "manifests", ex.file))
		require.NoError(f, err)
		f.Add(string(bz))
	}
	f.Add(`{"quorum": {"threshold": 0.67}}`)
	f.Add(`{"triggers": [{"cron": {"schedule": "@hourly"}, "event": {"type": "x"}}], "taskTimeout": 5}`)
	f.Add(`{"limits": {"time_ms": "18446744073709551616"}} {}`)
	f.Fuzz(func(t *testing.T, js string) {
		m, err := types.DecodeManifestJSON(cdc, []byte(js))
		if err != nil {
			require.ErrorIs(t, err, types.ErrInvalidManifest)
			return
		}
		var viaCodec types.ServiceManifest
		require.NoError(t, cdc.UnmarshalJSON([]byte(js), &viaCodec))
		want, err := cdc.MarshalJSON(&viaCodec)
		require.NoError(t, err)
		got, err := cdc.MarshalJSON(&m)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}
