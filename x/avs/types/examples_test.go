package types_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/types/address"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/avschain/avschain/x/avs/types"
)

const (
	examplesDir = "../../../examples"
	repoRoot    = "../../.."
)

// firstContractAddress is the address wasmd gives the first contract
// instantiated on a chain (code 1, instance 1: keeper.BuildContractAddressClassic),
// which examples/manifests/handler.json names.
func firstContractAddress(t *testing.T) string {
	t.Helper()
	id := make([]byte, 16)
	binary.BigEndian.PutUint64(id[:8], 1)
	binary.BigEndian.PutUint64(id[8:], 1)
	addr, err := bech32.ConvertAndEncode("avs", address.Module("wasm", id)[:32])
	require.NoError(t, err)
	return addr
}

// exampleManifests is every file in examples/manifests/, the committed
// component it runs, and what it is an example of.
var exampleManifests = []struct {
	file      string
	component string
	shows     func(t *testing.T, m types.ServiceManifest)
}{
	{
		file:      "exact.json",
		component: "components/square/square.wasm",
		shows: func(t *testing.T, m types.ServiceManifest) {
			require.Equal(t, types.AGGREGATION_MODE_EXACT, m.Aggregation.Mode)
			require.Equal(t, types.WEIGHTING_STAKE, m.Quorum.Weighting)
		},
	},
	{
		file:      "median-slashing.json",
		component: "components/price-oracle/price-oracle.wasm",
		shows: func(t *testing.T, m types.ServiceManifest) {
			require.Equal(t, types.AGGREGATION_MODE_MEDIAN, m.Aggregation.Mode)
			require.True(t, m.Aggregation.AllowedSpread.IsPositive())
			require.True(t, m.Aggregation.SlashableSpread.GT(m.Aggregation.AllowedSpread))
			require.True(t, m.Slashes())
			requirePriceHostAllowed(t, m)
		},
	},
	{
		file:      "triggers.json",
		component: "components/price-oracle/price-oracle.wasm",
		shows: func(t *testing.T, m types.ServiceManifest) {
			kinds := map[string]bool{}
			for _, tr := range m.Triggers {
				kinds[fmt.Sprintf("%T", tr.Kind)] = true
			}
			require.Equal(t, map[string]bool{"*types.Trigger_BlockInterval": true, "*types.Trigger_Cron": true, "*types.Trigger_Event": true}, kinds)
			require.Equal(t, types.WEIGHTING_EQUAL, m.Quorum.Weighting)
			require.Equal(t, types.ADMISSION_ALLOWLIST, m.Admission)
			requirePriceHostAllowed(t, m)
		},
	},
	{
		file:      "handler.json",
		component: "components/square/square.wasm",
		shows: func(t *testing.T, m types.ServiceManifest) {
			require.Equal(t, firstContractAddress(t), m.HandlerContract)
		},
	},
	{
		file:      "ibc.json",
		component: "components/square/square.wasm",
		shows: func(t *testing.T, m types.ServiceManifest) {
			require.NotEmpty(t, m.IbcRequestChannels)
			require.NotEmpty(t, m.IbcResultChannels)
		},
	},
}

// requirePriceHostAllowed: the price oracle's PRICE_URL host is on the
// allow-list, or every fetch is refused.
func requirePriceHostAllowed(t *testing.T, m types.ServiceManifest) {
	t.Helper()
	u, err := url.Parse(m.ConfigMap()["PRICE_URL"])
	require.NoError(t, err)
	require.Contains(t, m.Limits.HttpAllowList, u.Host)
}

func readExample(t *testing.T, file string) []byte {
	t.Helper()
	bz, err := os.ReadFile(filepath.Join(examplesDir, "manifests", file))
	require.NoError(t, err)
	return bz
}

// TestExampleManifests: each example decodes with the codec the CLI uses,
// passes the chain's own validation against the default params, names the
// digest of the committed component it runs, has every field, typed as
// proto JSON writes it, and is valid under the schema.
func TestExampleManifests(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	schema := loadSchema(t, schemaPath)
	readme, err := os.ReadFile(filepath.Join(examplesDir, "README.md"))
	require.NoError(t, err)

	files, err := filepath.Glob(filepath.Join(examplesDir, "manifests", "*"))
	require.NoError(t, err)
	var listed []string
	for _, ex := range exampleManifests {
		listed = append(listed, filepath.Join(examplesDir, "manifests", ex.file))
	}
	require.ElementsMatch(t, listed, files, "every example is in exampleManifests, which says what it runs")

	for _, ex := range exampleManifests {
		t.Run(ex.file, func(t *testing.T) {
			bz := readExample(t, ex.file)
			m, err := types.DecodeManifestJSON(cdc, bz)
			require.NoError(t, err)
			require.NoError(t, m.Validate(types.DefaultParams()))

			wasm, err := os.ReadFile(filepath.Join(repoRoot, ex.component))
			require.NoError(t, err)
			require.Equal(t, types.Digest(wasm), m.ComponentDigest,
				"component_digest is the sha256 of %s: `sha256sum %s` and put it in %s", ex.component, ex.component, ex.file)
			if m.HandlerContract != "" {
				hrp, _, err := bech32.DecodeAndConvert(m.HandlerContract)
				require.NoError(t, err, "the msg server decodes handler_contract")
				require.Equal(t, "avs", hrp)
			}
			ex.shows(t, m)

			canonical, err := cdc.MarshalJSON(&m)
			require.NoError(t, err)
			var want, got any
			require.NoError(t, decodeJSON(canonical, &want))
			require.NoError(t, decodeJSON(bz, &got))
			require.NoError(t, sameShape(want, got, ""), "the example has every field, as proto JSON writes it")

			require.NoError(t, schema.validate(got))
			require.Contains(t, string(readme), "manifests/"+ex.file, "examples/README.md says what it is for")
		})
	}
}

// sameShape reports the first place where got differs from want in its keys,
// list lengths or JSON types (not in its values).
func sameShape(want, got any, at string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, got)
		}
		for _, k := range sortedKeys(w) {
			if _, has := g[k]; !has {
				return fmt.Errorf("%s: %q is missing", at, k)
			}
			if err := sameShape(w[k], g[k], joinJSONPath(at, k)); err != nil {
				return err
			}
		}
		for k := range g {
			if _, has := w[k]; !has {
				return fmt.Errorf("%s: %q is no field the codec writes", at, k)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: want a list of %d, got %v", at, len(w), got)
		}
		for i := range w {
			if err := sameShape(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return fmt.Errorf("%s: want a %T (%v), got a %T (%v)", at, want, want, got, got)
		}
	}
	return nil
}

// jsonPath is a path into a JSON document: keys and list indexes.
type jsonPath []any

func (p jsonPath) String() string {
	var b strings.Builder
	for _, seg := range p {
		switch s := seg.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		}
	}
	return b.String()
}

// members lists the path of every object member in doc, and which of them
// hold scalars.
func members(doc any, at jsonPath, visit func(p jsonPath, scalar bool)) {
	switch d := doc.(type) {
	case map[string]any:
		for _, k := range sortedKeys(d) {
			p := append(append(jsonPath{}, at...), k)
			_, isObj := d[k].(map[string]any)
			_, isList := d[k].([]any)
			visit(p, !isObj && !isList)
			members(d[k], p, visit)
		}
	case []any:
		for i, e := range d {
			p := append(append(jsonPath{}, at...), i)
			if _, isObj := e.(map[string]any); !isObj {
				if _, isList := e.([]any); !isList {
					visit(p, true)
				}
			}
			members(e, p, visit)
		}
	}
}

// mutate returns a copy of doc with the value at p replaced by v, or
// removed when remove is set.
func mutate(t *testing.T, doc any, p jsonPath, v any, remove bool) any {
	t.Helper()
	out := normalizeJSON(t, doc)
	cur := out
	for i, seg := range p {
		last := i == len(p)-1
		switch c := cur.(type) {
		case map[string]any:
			k := seg.(string)
			if last {
				if remove {
					delete(c, k)
				} else {
					c[k] = v
				}
				return out
			}
			cur = c[k]
		case []any:
			if last {
				require.False(t, remove, "only members are removed")
				c[seg.(int)] = v
				return out
			}
			cur = c[seg.(int)]
		}
	}
	return out
}

// TestExampleMutationsChainAndSchemaAgree changes each example one member at
// a time and asks the chain (DecodeManifestJSON, then Validate against the
// default params) and the schema whether the result is a valid manifest:
//
//   - without the member: they agree, so the schema's "required" (and its
//     conditional rules) are what Validate needs;
//   - a boolean in place of a value (no manifest field is a boolean): both
//     refuse, and the decode error names the member's path;
//   - a number in place of a string (the same number when the string holds
//     one): they agree (64-bit integers may be numbers, decimals and amounts
//     may not), and a decode error names the path.
func TestExampleMutationsChainAndSchemaAgree(t *testing.T) {
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	schema := loadSchema(t, schemaPath)
	params := types.DefaultParams()

	chain := func(doc any) (decodeErr, validateErr error) {
		bz, err := json.Marshal(doc)
		require.NoError(t, err)
		m, err := types.DecodeManifestJSON(cdc, bz)
		if err != nil {
			return err, nil
		}
		return nil, m.Validate(params)
	}

	for _, ex := range exampleManifests {
		t.Run(ex.file, func(t *testing.T) {
			var doc any
			require.NoError(t, decodeJSON(readExample(t, ex.file), &doc))
			fields := 0
			members(doc, nil, func(p jsonPath, scalar bool) {
				if len(p) == 1 {
					fields++
				}
				if _, isIndex := p[len(p)-1].(int); !isIndex {
					mut := mutate(t, doc, p, nil, true)
					decodeErr, validateErr := chain(mut)
					require.NoError(t, decodeErr, "without %s", p)
					schemaErr := schema.validate(mut)
					require.Equal(t, validateErr == nil, schemaErr == nil,
						"without %s: the chain says %v, the schema %v", p, validateErr, schemaErr)
				}
				if !scalar {
					return
				}

				mut := mutate(t, doc, p, true, false)
				decodeErr, _ := chain(mut)
				require.Error(t, decodeErr, "%s: true", p)
				require.Contains(t, decodeErr.Error(), p.String()+": ", "the error names the field")
				require.ErrorIs(t, decodeErr, types.ErrInvalidManifest)
				require.Error(t, schema.validate(mut), "%s: true", p)

				old := pointerValue(t, doc, p)
				if s, isString := old.(string); isString {
					num := json.Number("1")
					if numeric.MatchString(s) {
						num = json.Number(s)
					}
					mut := mutate(t, doc, p, num, false)
					decodeErr, validateErr := chain(mut)
					schemaErr := schema.validate(mut)
					require.Equal(t, decodeErr == nil && validateErr == nil, schemaErr == nil,
						"%s: %s: the chain says %v / %v, the schema %v", p, num, decodeErr, validateErr, schemaErr)
					if decodeErr != nil {
						require.Contains(t, decodeErr.Error(), p.String()+": ", "the error names the field")
					}
				}
			})
			require.Equal(t, manifestDescriptor(t).Fields().Len(), fields, "the walk reached every field")
		})
	}
}

// numeric matches the strings that hold a number.
var numeric = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func pointerValue(t *testing.T, doc any, p jsonPath) any {
	t.Helper()
	cur := doc
	for _, seg := range p {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg.(string)]
		case []any:
			cur = c[seg.(int)]
		}
	}
	return cur
}
