package types_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	cosmos_proto "github.com/cosmos/cosmos-proto"
	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/avschain/avschain/x/avs/types"
)

const schemaPath = "../../../examples/manifest.schema.json"

func manifestDescriptor(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	d, err := gogoproto.HybridResolver.FindDescriptorByName("avschain.avs.v1.ServiceManifest")
	require.NoError(t, err)
	return d.(protoreflect.MessageDescriptor)
}

// schemaChain is a schema node followed by the nodes its $refs lead to: a
// keyword of the node is looked up along it.
type schemaChain []map[string]any

func (s jsonSchema) chain(t *testing.T, node any) schemaChain {
	t.Helper()
	var out schemaChain
	for node != nil {
		m, ok := node.(map[string]any)
		require.True(t, ok, "a schema node is an object")
		out = append(out, m)
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		next, err := s.ref(ref)
		require.NoError(t, err)
		node = next
	}
	return out
}

func (c schemaChain) get(key string) (any, bool) {
	for _, m := range c {
		if v, ok := m[key]; ok {
			return v, true
		}
	}
	return nil, false
}

func (c schemaChain) refs() []string {
	var out []string
	for _, m := range c {
		if r, ok := m["$ref"].(string); ok {
			out = append(out, strings.TrimPrefix(r, "#/$defs/"))
		}
	}
	return out
}

func (c schemaChain) types() []string {
	typ, ok := c.get("type")
	if !ok {
		return nil
	}
	if s, isString := typ.(string); isString {
		return []string{s}
	}
	var out []string
	for _, x := range typ.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (c schemaChain) description() string {
	var all []string
	for _, m := range c {
		if d, ok := m["description"].(string); ok {
			all = append(all, d)
		}
	}
	return strings.Join(all, " ")
}

// TestManifestSchemaMatchesProto walks ServiceManifest's descriptor and the
// schema together: every field of every message is a property of the same
// name with the JSON type the proto JSON codec reads, every property is a
// field, every enum lists the proto's values, decimals and big integers are
// quoted strings, a oneof takes one member, and each default is the proto
// JSON of the field's zero value (what an absent field decodes to).
func TestManifestSchemaMatchesProto(t *testing.T) {
	schema := loadSchema(t, schemaPath)
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	reached := map[string]bool{}
	checkMessageSchema(t, schema, cdc, schema.chain(t, schema.root), manifestDescriptor(t), "ServiceManifest", reached)

	// Every definition is used: none is left describing a field that is gone.
	bz, err := json.Marshal(schema.root)
	require.NoError(t, err)
	for name := range schema.root["$defs"].(map[string]any) {
		require.Contains(t, string(bz), `"#/$defs/`+name+`"`, "$defs/%s is never referenced", name)
	}
	for _, name := range []string{"Limits", "Quorum", "Aggregation", "ConfigEntry", "Coin", "Trigger", "BlockIntervalTrigger", "CronTrigger", "EventTrigger", "EventAttributeFilter"} {
		require.True(t, reached[name], "message %s was walked", name)
	}
}

func checkMessageSchema(t *testing.T, s jsonSchema, cdc codec.JSONCodec, c schemaChain, md protoreflect.MessageDescriptor, at string, reached map[string]bool) {
	t.Helper()
	reached[string(md.Name())] = true
	require.Equal(t, []string{"object"}, c.types(), "%s is an object", at)
	ap, _ := c.get("additionalProperties")
	require.Equal(t, false, ap, "%s refuses unknown fields, as the codec does", at)
	propsV, ok := c.get("properties")
	require.True(t, ok, "%s lists its properties", at)
	props := propsV.(map[string]any)

	var fieldNames []string
	for i := 0; i < md.Fields().Len(); i++ {
		fieldNames = append(fieldNames, string(md.Fields().Get(i).Name()))
	}
	require.ElementsMatch(t, fieldNames, sortedKeys(props), "%s: the schema's properties are the proto's fields", at)

	// The zero message's proto JSON: the value of every absent field.
	goType := gogoproto.MessageType(string(md.FullName()))
	require.NotNil(t, goType, "%s has a Go type", md.FullName())
	zeroJSON, err := cdc.MarshalJSON(reflect.New(goType.Elem()).Interface().(gogoproto.Message))
	require.NoError(t, err)
	var zero map[string]any
	require.NoError(t, decodeJSON(zeroJSON, &zero))

	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		name := string(fd.Name())
		path := at + "." + name
		fc := s.chain(t, props[name])
		require.NotEmpty(t, fc.description(), "%s has a description", path)
		if def, ok := fc.get("default"); ok {
			require.True(t, jsonEqual(zero[name], def) || reflect.DeepEqual(normalizeJSON(t, zero[name]), normalizeJSON(t, def)),
				"%s: default %v is what an absent field decodes to, %v", path, def, zero[name])
		}
		if fd.IsList() {
			require.Equal(t, []string{"array"}, fc.types(), "%s is a list", path)
			items, ok := fc.get("items")
			require.True(t, ok, "%s names its items", path)
			checkFieldSchema(t, s, cdc, s.chain(t, items), fd, path+"[]", reached)
			continue
		}
		checkFieldSchema(t, s, cdc, fc, fd, path, reached)
	}

	for i := 0; i < md.Oneofs().Len(); i++ {
		oo := md.Oneofs().Get(i)
		if oo.IsSynthetic() {
			continue
		}
		require.Equal(t, oo.Fields().Len(), md.Fields().Len(), "%s: a oneof message has nothing but its oneof (or maxProperties would be wrong)", at)
		for _, kw := range []string{"minProperties", "maxProperties"} {
			n, ok := c.get(kw)
			require.True(t, ok, "%s: oneof %s needs %s", at, oo.Name(), kw)
			require.Equal(t, json.Number("1"), n, "%s: exactly one of %s", at, oo.Name())
		}
	}
}

func checkFieldSchema(t *testing.T, s jsonSchema, cdc codec.JSONCodec, fc schemaChain, fd protoreflect.FieldDescriptor, path string, reached map[string]bool) {
	t.Helper()
	switch fd.Kind() {
	case protoreflect.MessageKind:
		require.Contains(t, fc.refs(), string(fd.Message().Name()), "%s refers to $defs/%s", path, fd.Message().Name())
		checkMessageSchema(t, s, cdc, fc, fd.Message(), path, reached)
	case protoreflect.EnumKind:
		require.Equal(t, []string{"string"}, fc.types(), "%s: enums are named", path)
		var names []any
		for i := 0; i < fd.Enum().Values().Len(); i++ {
			names = append(names, string(fd.Enum().Values().Get(i).Name()))
		}
		enum, _ := fc.get("enum")
		require.Equal(t, names, enum, "%s lists the enum's values", path)
	case protoreflect.StringKind:
		require.Equal(t, []string{"string"}, fc.types(), "%s is a string", path)
		switch proto.GetExtension(fd.Options(), cosmos_proto.E_Scalar) {
		case "cosmos.Dec":
			require.Contains(t, fc.refs(), "decimal", "%s is a decimal", path)
			require.Contains(t, fc.description(), "quoted string", "%s states the quoting rule", path)
		case "cosmos.Int":
			require.Contains(t, fc.refs(), "bigInt", "%s is a big integer", path)
			require.Contains(t, fc.description(), "quoted string", "%s states the quoting rule", path)
		}
	case protoreflect.Uint64Kind, protoreflect.Int64Kind, protoreflect.Fixed64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		require.Equal(t, []string{"string", "integer"}, fc.types(), "%s: a 64-bit integer is a quoted string in proto JSON (a number is read too)", path)
		ref := "uint64"
		if fd.Kind() != protoreflect.Uint64Kind && fd.Kind() != protoreflect.Fixed64Kind {
			ref = "int64"
		}
		require.Contains(t, fc.refs(), ref, path)
	case protoreflect.Uint32Kind, protoreflect.Int32Kind, protoreflect.Fixed32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		require.Equal(t, []string{"integer"}, fc.types(), "%s: a 32-bit integer is a number", path)
	case protoreflect.BoolKind:
		require.Equal(t, []string{"boolean"}, fc.types(), path)
	default:
		t.Fatalf("%s: kind %s has no schema rule in this test", path, fd.Kind())
	}
}

// normalizeJSON re-reads a value through JSON, for comparing objects.
func normalizeJSON(t *testing.T, v any) any {
	t.Helper()
	bz, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, decodeJSON(bz, &out))
	return out
}

// pointer reads a value of the schema at a JSON pointer ("/a/b/0").
func pointer(t *testing.T, root any, ptr string) any {
	t.Helper()
	cur := root
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[seg]
			require.True(t, ok, "%s: no %q", ptr, seg)
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			require.NoError(t, err, ptr)
			require.Less(t, i, len(c), ptr)
			cur = c[i]
		default:
			t.Fatalf("%s: %q is inside a scalar", ptr, seg)
		}
	}
	return cur
}

// TestManifestSchemaLimits ties every limit and default-param value the
// schema states to the constant or default param the chain checks.
func TestManifestSchemaLimits(t *testing.T) {
	schema := loadSchema(t, schemaPath)
	p := types.DefaultParams()
	num := func(n uint64) json.Number { return json.Number(strconv.FormatUint(n, 10)) }
	limits := []struct {
		ptr  string
		want any
	}{
		{"/properties/name/maxLength", num(types.MaxServiceNameLength)},
		{"/properties/config/maxItems", num(types.MaxConfigEntries)},
		{"/$defs/Limits/properties/time_ms/maximum", num(types.MaxTimeLimitMs)},
		{"/$defs/Limits/properties/memory_pages/maximum", num(types.MaxMemoryPages)},
		{"/$defs/Limits/properties/output_bytes/maximum", num(p.MaxResultSize)},
		{"/$defs/Limits/properties/http_allow_list/maxItems", num(types.MaxAllowListHosts)},
		{"/$defs/Quorum/properties/min_operators/maximum", num(types.MaxMinOperators)},
		{"/properties/task_timeout/maximum", num(p.MaxTaskTimeout)},
		{"/properties/ibc_request_channels/maxItems", num(types.MaxIBCChannels)},
		{"/properties/ibc_result_channels/maxItems", num(types.MaxIBCChannels)},
		{"/properties/triggers/maxItems", num(types.MaxTriggers)},
		{"/$defs/CronTrigger/properties/schedule/maxLength", num(types.MaxCronLength)},
		{"/$defs/EventTrigger/properties/type/maxLength", num(types.MaxEventFieldLength)},
		{"/$defs/EventTrigger/properties/attributes/maxItems", num(types.MaxEventFilters)},
		{"/$defs/EventAttributeFilter/properties/key/maxLength", num(types.MaxEventFieldLength)},
		{"/$defs/EventAttributeFilter/properties/value/maxLength", num(types.MaxEventFieldLength)},
		{"/properties/fee_per_task/anyOf/1/properties/denom/const", p.StakeDenom},
		{"/$defs/decimal/pattern", fmt.Sprintf(`^[0-9]+(\.[0-9]{1,%d})?$`, sdkmath.LegacyPrecision)},
	}
	for _, l := range limits {
		require.Equal(t, l.want, pointer(t, schema.root, l.ptr), l.ptr)
	}

	// Figures in descriptions.
	handlerDeposit := p.HandlerGasPrice.MulInt64(int64(p.HandlerGasLimit)).TruncateInt()
	texts := []struct {
		ptr  string
		want []string
	}{
		{"/$defs/Limits/properties/output_bytes/description", []string{fmt.Sprint(p.MaxResultSize)}},
		{"/properties/task_timeout/description", []string{fmt.Sprint(p.MaxTaskTimeout), fmt.Sprint(p.DefaultTaskTimeout)}},
		{"/properties/config/description", []string{fmt.Sprint(types.MaxConfigBytes)}},
		{"/properties/min_self_stake/description", []string{p.MinOperatorStake.String(), p.StakeDenom}},
		{"/properties/handler_contract/description", []string{handlerDeposit.String() + " " + p.StakeDenom}},
		{"/description", []string{"quoted", fmt.Sprint(p.MaxResultSize), fmt.Sprint(p.MaxTaskTimeout), p.StakeDenom}},
	}
	for _, tx := range texts {
		d := pointer(t, schema.root, tx.ptr).(string)
		for _, w := range tx.want {
			require.Contains(t, d, w, tx.ptr)
		}
	}
}
