package cli

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

const examplesDir = "../../../../examples"

// TestManifestHelpPointsToExamples: both commands that read a manifest say
// where the complete examples and the schema are, and the quoting rule.
func TestManifestHelpPointsToExamples(t *testing.T) {
	for _, cmd := range []string{CreateServiceCmd().Long, UpdateServiceCmd().Long} {
		for _, s := range []string{"examples/manifests/", "examples/manifest.schema.json", `"0.67" and never 0.67`, "Required: name, component_digest"} {
			require.Contains(t, cmd, s)
		}
	}
	for _, p := range []string{"manifests/exact.json", "manifest.schema.json"} {
		_, err := os.Stat(filepath.Join(examplesDir, p))
		require.NoError(t, err, "the help points to a file that exists")
	}
}

// TestManifestHelpExampleIsValid: the help's example, placeholders filled
// in, passes the chain's validation.
func TestManifestHelpExampleIsValid(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	example := manifestHelp[strings.Index(manifestHelp, "{") : strings.LastIndex(manifestHelp, "}")+1]
	filled := strings.NewReplacer(
		"<sha256sum of the stored .wasm: 64 lower-case hex digits>", types.Digest([]byte("component")),
		"<contract>", "avs14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9snchqyn",
	).Replace(example)
	require.NotEqual(t, example, filled, "the placeholders are in the example")
	m, err := ReadManifest(cdc, writeFile(t, "manifest.json", []byte(filled)))
	require.NoError(t, err)
	require.NoError(t, m.Validate(types.DefaultParams()))
}

// TestReadManifestExamples: every example reads.
func TestReadManifestExamples(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	files, err := filepath.Glob(filepath.Join(examplesDir, "manifests", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, f := range files {
		m, err := ReadManifest(cdc, f)
		require.NoError(t, err, f)
		require.NotEmpty(t, m.Name, f)
	}
}

// TestReadManifestNamesTheField: a wrong type is reported at its path, with
// the fix, the file and where the examples are (x/avs/types tests every
// kind of mistake; this one how the CLI passes it on).
func TestReadManifestNamesTheField(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	testCases := []struct {
		name        string
		manifest    string
		errContains []string
	}{
		{
			name:        "unquoted decimal",
			manifest:    `{"name": "square", "quorum": {"threshold": 0.67}}`,
			errContains: []string{`quorum.threshold: a decimal must be a quoted string: write "0.67", not 0.67`},
		},
		{
			name:        "number for an enum",
			manifest:    `{"name": "square", "aggregation": {"mode": 1}}`,
			errContains: []string{`aggregation.mode: name the value, one of "AGGREGATION_MODE_EXACT", "AGGREGATION_MODE_MEDIAN", rather than the number 1`},
		},
		{
			name:        "string for a repeated",
			manifest:    `{"name": "square", "ibc_result_channels": "channel-0"}`,
			errContains: []string{`ibc_result_channels: must be a list [...], got the string "channel-0"`},
		},
		{
			name:        "unknown nested field",
			manifest:    `{"name": "square", "triggers": [{"cron": {"schedule": "@hourly", "zone": "UTC"}}]}`,
			errContains: []string{`triggers[0].cron.zone: unknown field "zone"`},
		},
		{
			name:        "bad enum name",
			manifest:    `{"name": "square", "admission": "ALLOWLIST"}`,
			errContains: []string{`admission: "ALLOWLIST" is not one of "ADMISSION_OPEN", "ADMISSION_ALLOWLIST"`},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadManifest(cdc, writeFile(t, "bad.json", []byte(tc.manifest)))
			require.ErrorIs(t, err, types.ErrInvalidManifest)
			for _, s := range append(tc.errContains, "decode manifest ", "bad.json: ", "examples/manifests/", "examples/manifest.schema.json") {
				require.Contains(t, err.Error(), s)
			}
			require.NotContains(t, err.Error(), ".go:", "the error text carries no source position")
		})
	}
}
