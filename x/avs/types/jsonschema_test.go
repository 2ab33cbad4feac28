package types_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// jsonSchema checks JSON documents against the subset of JSON Schema 2020-12
// that examples/manifest.schema.json uses (the module has no JSON Schema
// library, and gets none for a test). A keyword outside the subset fails the
// load, so no rule of the schema goes unchecked.
type jsonSchema struct {
	root map[string]any
}

// schemaKeywords are the keywords jsonSchema applies; annotations are read
// but have no effect on validity.
var (
	schemaKeywords = map[string]bool{
		"$ref": true, "type": true, "properties": true, "required": true, "additionalProperties": true,
		"minProperties": true, "maxProperties": true, "items": true, "minItems": true, "maxItems": true,
		"uniqueItems": true, "enum": true, "const": true, "pattern": true, "minLength": true, "maxLength": true,
		"minimum": true, "maximum": true, "allOf": true, "anyOf": true, "oneOf": true, "not": true,
		"if": true, "then": true, "else": true,
	}
	schemaAnnotations = map[string]bool{
		"$schema": true, "$id": true, "$defs": true, "title": true, "description": true, "default": true,
	}
)

func loadSchema(t *testing.T, path string) jsonSchema {
	t.Helper()
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	var root map[string]any
	require.NoError(t, decodeJSON(bz, &root))
	s := jsonSchema{root: root}
	require.NoError(t, s.checkKeywords(root, "#"))
	return s
}

func decodeJSON(bz []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.UseNumber()
	return dec.Decode(v)
}

// checkKeywords refuses a schema keyword jsonSchema does not apply.
func (s jsonSchema) checkKeywords(node any, at string) error {
	m, ok := node.(map[string]any)
	if !ok {
		if _, isBool := node.(bool); isBool {
			return nil
		}
		return fmt.Errorf("%s: a schema must be an object or a boolean", at)
	}
	for k, v := range m {
		switch {
		case k == "properties" || k == "$defs":
			for name, sub := range v.(map[string]any) {
				if err := s.checkKeywords(sub, at+"/"+k+"/"+name); err != nil {
					return err
				}
			}
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			for i, sub := range v.([]any) {
				if err := s.checkKeywords(sub, fmt.Sprintf("%s/%s/%d", at, k, i)); err != nil {
					return err
				}
			}
		case k == "items" || k == "not" || k == "if" || k == "then" || k == "else" || k == "additionalProperties":
			if err := s.checkKeywords(v, at+"/"+k); err != nil {
				return err
			}
		case k == "$ref":
			if _, err := s.ref(v.(string)); err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
		case schemaKeywords[k] || schemaAnnotations[k]:
		default:
			return fmt.Errorf("%s: keyword %q is not one this test applies", at, k)
		}
	}
	return nil
}

func (s jsonSchema) ref(ref string) (any, error) {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only #/$defs/NAME is supported", ref)
	}
	def, ok := s.root["$defs"].(map[string]any)[name]
	if !ok {
		return nil, fmt.Errorf("$ref %q: no such definition", ref)
	}
	return def, nil
}

// validate returns the first rule inst breaks, or nil.
func (s jsonSchema) validate(inst any) error { return s.check(s.root, inst, "") }

func (s jsonSchema) check(node, inst any, at string) error {
	if b, ok := node.(bool); ok {
		if !b {
			return fmt.Errorf("%s: not allowed", at)
		}
		return nil
	}
	sch := node.(map[string]any)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...))
	}
	if ref, ok := sch["$ref"].(string); ok {
		target, err := s.ref(ref)
		if err != nil {
			return err
		}
		if err := s.check(target, inst, at); err != nil {
			return err
		}
	}
	if typ, ok := sch["type"]; ok {
		types := []any{typ}
		if list, isList := typ.([]any); isList {
			types = list
		}
		matched := false
		for _, want := range types {
			matched = matched || jsonTypeIs(inst, want.(string))
		}
		if !matched {
			return fail("%v is not of type %v", inst, typ)
		}
	}
	if enum, ok := sch["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || jsonEqual(e, inst)
		}
		if !found {
			return fail("%v is not in %v", inst, enum)
		}
	}
	if c, ok := sch["const"]; ok && !jsonEqual(c, inst) {
		return fail("%v is not %v", inst, c)
	}
	switch v := inst.(type) {
	case string:
		if p, ok := sch["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			return fail("%q does not match %s", v, p)
		}
		if n, ok := schemaInt(sch, "minLength"); ok && utf8.RuneCountInString(v) < n {
			return fail("%q is shorter than %d", v, n)
		}
		if n, ok := schemaInt(sch, "maxLength"); ok && utf8.RuneCountInString(v) > n {
			return fail("%q is longer than %d", v, n)
		}
	case json.Number:
		x, _ := new(big.Rat).SetString(v.String())
		if m, ok := sch["minimum"].(json.Number); ok {
			if lo, _ := new(big.Rat).SetString(m.String()); x.Cmp(lo) < 0 {
				return fail("%s is below %s", v, m)
			}
		}
		if m, ok := sch["maximum"].(json.Number); ok {
			if hi, _ := new(big.Rat).SetString(m.String()); x.Cmp(hi) > 0 {
				return fail("%s is above %s", v, m)
			}
		}
	case []any:
		if n, ok := schemaInt(sch, "minItems"); ok && len(v) < n {
			return fail("fewer than %d items", n)
		}
		if n, ok := schemaInt(sch, "maxItems"); ok && len(v) > n {
			return fail("more than %d items", n)
		}
		if u, _ := sch["uniqueItems"].(bool); u {
			for i := range v {
				for j := i + 1; j < len(v); j++ {
					if jsonEqual(v[i], v[j]) {
						return fail("items %d and %d are equal", i, j)
					}
				}
			}
		}
		if items, ok := sch["items"]; ok {
			for i, e := range v {
				if err := s.check(items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		if n, ok := schemaInt(sch, "minProperties"); ok && len(v) < n {
			return fail("fewer than %d properties", n)
		}
		if n, ok := schemaInt(sch, "maxProperties"); ok && len(v) > n {
			return fail("more than %d properties", n)
		}
		if req, ok := sch["required"].([]any); ok {
			for _, r := range req {
				if _, has := v[r.(string)]; !has {
					return fail("%q is required", r)
				}
			}
		}
		props, _ := sch["properties"].(map[string]any)
		for _, k := range sortedKeys(v) {
			sub := joinJSONPath(at, k)
			if p, ok := props[k]; ok {
				if err := s.check(p, v[k], sub); err != nil {
					return err
				}
			} else if ap, ok := sch["additionalProperties"]; ok {
				if err := s.check(ap, v[k], sub); err != nil {
					return err
				}
			}
		}
	}
	if all, ok := sch["allOf"].([]any); ok {
		for _, sub := range all {
			if err := s.check(sub, inst, at); err != nil {
				return err
			}
		}
	}
	if anyOf, ok := sch["anyOf"].([]any); ok {
		var errs []string
		for _, sub := range anyOf {
			err := s.check(sub, inst, at)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fail("matches none of anyOf: %s", strings.Join(errs, "; "))
		}
	}
	if oneOf, ok := sch["oneOf"].([]any); ok {
		n := 0
		for _, sub := range oneOf {
			if s.check(sub, inst, at) == nil {
				n++
			}
		}
		if n != 1 {
			return fail("matches %d of oneOf, not 1", n)
		}
	}
	if not, ok := sch["not"]; ok && s.check(not, inst, at) == nil {
		return fail("matches a schema it must not")
	}
	if cond, ok := sch["if"]; ok {
		branch := "else"
		if s.check(cond, inst, at) == nil {
			branch = "then"
		}
		if sub, ok := sch[branch]; ok {
			return s.check(sub, inst, at)
		}
	}
	return nil
}

func jsonTypeIs(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		r, ok := new(big.Rat).SetString(n.String())
		return ok && r.IsInt()
	}
	panic("unknown JSON type " + typ)
}

func jsonEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		x, _ := new(big.Rat).SetString(an.String())
		y, _ := new(big.Rat).SetString(bn.String())
		return x != nil && y != nil && x.Cmp(y) == 0
	}
	return reflect.DeepEqual(a, b)
}

func schemaInt(sch map[string]any, key string) (int, bool) {
	n, ok := sch[key].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return int(i), err == nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinJSONPath(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// TestJSONSchemaSubset checks the checker itself on rules the manifest
// schema relies on, so that a schema test passing means the rule held.
func TestJSONSchemaSubset(t *testing.T) {
	schema := jsonSchema{root: map[string]any{}}
	require.NoError(t, decodeJSON([]byte(`{
		"type": "object", "additionalProperties": false, "required": ["a"],
		"properties": {
			"a": {"$ref": "#/$defs/u64", "maximum": 10},
			"b": {"type": "array", "maxItems": 2, "uniqueItems": true, "items": {"type": "string", "pattern": "^x"}},
			"c": {"enum": ["P", "Q"]},
			"d": {"type": "object", "minProperties": 1, "maxProperties": 1}
		},
		"if": {"required": ["c"], "properties": {"c": {"const": "Q"}}},
		"then": {"required": ["d"]},
		"anyOf": [{"required": ["b"]}, {"properties": {"a": {"not": {"const": "0"}}}}],
		"$defs": {"u64": {"type": ["string", "integer"], "pattern": "^[0-9]+$"}}
	}`), &schema.root))
	require.NoError(t, schema.checkKeywords(schema.root, "#"))

	testCases := []struct {
		doc   string
		valid bool
	}{
		{`{"a": "5"}`, true},
		{`{"a": 5}`, true},
		{`{"a": 11}`, false},
		{`{"a": 5.5}`, false},
		{`{"a": "x5"}`, false},
		{`{}`, false},
		{`{"a": "1", "z": 1}`, false},
		{`{"a": "1", "b": ["xa", "xb"]}`, true},
		{`{"a": "1", "b": ["xa", "xa"]}`, false},
		{`{"a": "1", "b": ["xa", "xb", "xc"]}`, false},
		{`{"a": "1", "b": ["y"]}`, false},
		{`{"a": "1", "c": "R"}`, false},
		{`{"a": "1", "c": "Q"}`, false},
		{`{"a": "1", "c": "Q", "d": {"k": 1}}`, true},
		{`{"a": "1", "c": "Q", "d": {"k": 1, "l": 2}}`, false},
		{`{"a": "0"}`, false},
		{`{"a": "0", "b": []}`, true},
	}
	for _, tc := range testCases {
		var doc any
		require.NoError(t, decodeJSON([]byte(tc.doc), &doc))
		err := schema.validate(doc)
		require.Equal(t, tc.valid, err == nil, "%s: %v", tc.doc, err)
	}

	require.Error(t, schema.checkKeywords(map[string]any{"format": "uri"}, "#"), "an unapplied keyword is refused")
}
