package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	cosmos_proto "github.com/cosmos/cosmos-proto"
	gogoproto "github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
)

// DecodeManifestJSON decodes a service manifest from its JSON form, the proto
// JSON `avsd tx avs create-service FILE` reads (examples/manifests/,
// examples/manifest.schema.json). The JSON is first checked against the
// manifest's proto descriptor, so that a mistake is reported at its path
// ("quorum.threshold: a decimal must be a quoted string …") rather than in
// the codec's Go terms ("cannot unmarshal number into Go value of type
// string"). The check is stricter than the codec where the codec would read a
// manifest other than the one written: an enum must be named (not numbered), a
// trigger has one kind, a key appears once, and nothing follows the manifest.
// Errors wrap ErrInvalidManifest. The values themselves are judged by
// ServiceManifest.Validate on the chain.
func DecodeManifestJSON(cdc codec.JSONCodec, bz []byte) (ServiceManifest, error) {
	var m ServiceManifest
	md, err := manifestDescriptor()
	if err != nil {
		return m, err
	}
	doc, err := parseOrderedJSON(bz)
	if err != nil {
		return m, errorsmod.Wrap(ErrInvalidManifest, err.Error())
	}
	if err := checkProtoJSON(md, doc, ""); err != nil {
		return m, err
	}
	if err := cdc.UnmarshalJSON(bz, &m); err != nil {
		return m, errorsmod.Wrap(ErrInvalidManifest, err.Error())
	}
	return m, nil
}

// manifestDescriptor is ServiceManifest's descriptor, looked up once (after
// the generated code's init has registered it).
var manifestDescriptor = sync.OnceValues(func() (protoreflect.MessageDescriptor, error) {
	name := protoreflect.FullName(gogoproto.MessageName(&ServiceManifest{}))
	d, err := gogoproto.HybridResolver.FindDescriptorByName(name)
	if err != nil {
		return nil, fmt.Errorf("descriptor of %s: %w", name, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, not a message", name, d)
	}
	return md, nil
})

// jsonMember is one member of a JSON object, in the order written.
type jsonMember struct {
	key   string
	value any
}

// jsonObject is a JSON object that keeps its members' order and repeats, so
// that the first mistake in the file is the one reported.
type jsonObject []jsonMember

// parseOrderedJSON reads one JSON value (objects as jsonObject, arrays as
// []any, numbers as json.Number) and refuses anything after it. A syntax
// error names its line and column.
func parseOrderedJSON(bz []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err == nil {
		end := dec.InputOffset()
		if rest := bytes.TrimLeft(bz[end:], " \t\r\n"); len(rest) > 0 {
			return nil, fmt.Errorf("%s: more follows the manifest's closing brace", position(bz, int64(len(bz)-len(rest))))
		}
		return v, nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return nil, fmt.Errorf("%s: %s", position(bz, syn.Offset), syn)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errors.New("the JSON ends early (an unclosed { or [?)")
	}
	return nil, err
}

// maxJSONDepth bounds the nesting parseValue follows: a manifest nests five
// levels (triggers[].event.attributes[].key).
const maxJSONDepth = 32

func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("the JSON nests deeper than %d levels", maxJSONDepth)
	}
	switch delim {
	case '{':
		obj := jsonObject{}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := keyTok.(string) // the decoder allows only strings as keys
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, jsonMember{key, v})
		}
		_, err = dec.Token() // '}'
		return obj, err
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token() // ']'
		return arr, err
	}
	return nil, fmt.Errorf("unexpected %q", delim)
}

// position says where byte offset off of bz is, as "line L, column C".
func position(bz []byte, off int64) string {
	if off > int64(len(bz)) {
		off = int64(len(bz))
	}
	before := bz[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// fieldErr is a mistake at a path of the manifest.
func fieldErr(path, format string, args ...any) error {
	if path == "" {
		path = "the manifest"
	}
	return errorsmod.Wrapf(ErrInvalidManifest, "%s: %s", path, fmt.Sprintf(format, args...))
}

// checkProtoJSON checks a parsed JSON value against a message descriptor as
// the SDK's proto JSON codec reads it: field names as in the .proto or in
// lowerCamelCase, 64-bit integers as quoted strings or numbers, decimals and
// big integers (cosmos.Dec, cosmos.Int) as quoted strings, enums by name,
// null for an absent field. It returns the first mistake, at its path.
func checkProtoJSON(md protoreflect.MessageDescriptor, v any, path string) error {
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // well-known types have their own JSON forms: the codec judges them
	}
	obj, ok := v.(jsonObject)
	if !ok {
		return fieldErr(path, "must be a JSON object {…}, got %s", describeJSON(v))
	}
	seen := make(map[protoreflect.FieldNumber]string, len(obj))
	oneofs := make(map[protoreflect.FullName]string)
	for _, mem := range obj {
		p := joinPath(path, mem.key)
		fd := md.Fields().ByJSONName(mem.key)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(mem.key))
		}
		if fd == nil {
			return fieldErr(p, "unknown field %q (%s has %s)", mem.key, describeMessage(path), fieldNames(md))
		}
		if prev, dup := seen[fd.Number()]; dup {
			if prev == mem.key {
				return fieldErr(p, "appears twice: give it once")
			}
			return fieldErr(p, "given twice, as %q and %q: give it once", prev, mem.key)
		}
		seen[fd.Number()] = mem.key
		if mem.value == nil {
			continue // null: the field is left unset
		}
		if oo := fd.ContainingOneof(); oo != nil && !oo.IsSynthetic() {
			if prev, set := oneofs[oo.FullName()]; set {
				return fieldErr(path, "set one of %s, not both %q and %q", oneofNames(oo), prev, mem.key)
			}
			oneofs[oo.FullName()] = mem.key
		}
		if err := checkField(fd, mem.value, p); err != nil {
			return err
		}
	}
	return nil
}

func checkField(fd protoreflect.FieldDescriptor, v any, path string) error {
	switch {
	case fd.IsMap():
		obj, ok := v.(jsonObject)
		if !ok {
			return fieldErr(path, "must be a JSON object {…}, got %s", describeJSON(v))
		}
		for _, mem := range obj {
			if err := checkSingular(fd.MapValue(), mem.value, joinPath(path, mem.key)); err != nil {
				return err
			}
		}
		return nil
	case fd.IsList():
		arr, ok := v.([]any)
		if !ok {
			return fieldErr(path, "must be a list [...], got %s", describeJSON(v))
		}
		for i, e := range arr {
			if e == nil {
				continue
			}
			if err := checkSingular(fd, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return checkSingular(fd, v, path)
}

// checkSingular checks one value of a field (one element of a list).
func checkSingular(fd protoreflect.FieldDescriptor, v any, path string) error {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkProtoJSON(fd.Message(), v, path)
	case protoreflect.EnumKind:
		return checkEnum(fd.Enum(), v, path)
	case protoreflect.BoolKind:
		if _, ok := v.(bool); !ok {
			return fieldErr(path, "must be true or false, got %s", describeJSON(v))
		}
	case protoreflect.StringKind:
		return checkString(fd, v, path)
	case protoreflect.BytesKind:
		if _, ok := v.(string); !ok {
			return fieldErr(path, "bytes must be a base64 string, got %s", describeJSON(v))
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		s, ok := numberText(v)
		if _, err := strconv.ParseFloat(s, 64); !ok || err != nil {
			return fieldErr(path, "must be a number, got %s", describeJSON(v))
		}
	default:
		return checkInteger(fd.Kind(), v, path)
	}
	return nil
}

// Scalars cosmos_proto.scalar names on string fields that hold numbers.
const (
	scalarDec = "cosmos.Dec"
	scalarInt = "cosmos.Int"
)

func checkString(fd protoreflect.FieldDescriptor, v any, path string) error {
	scalar, _ := proto.GetExtension(fd.Options(), cosmos_proto.E_Scalar).(string)
	s, isString := v.(string)
	n, isNumber := v.(json.Number)
	switch {
	case scalar == scalarDec && isNumber:
		return fieldErr(path, "a decimal must be a quoted string: write %q, not %s", n.String(), n)
	case scalar == scalarDec && isString:
		var d sdkmath.LegacyDec
		if err := unmarshalQuoted(&d, s); err != nil {
			return fieldErr(path, "%q is not a decimal (digits with at most %d after the point, in quotes, e.g. \"0.67\"): %s", s, sdkmath.LegacyPrecision, err)
		}
	case scalar == scalarInt && isNumber:
		return fieldErr(path, "a big integer must be a quoted string: write %q, not %s", n.String(), n)
	case scalar == scalarInt && isString:
		var i sdkmath.Int
		if err := unmarshalQuoted(&i, s); err != nil {
			return fieldErr(path, "%q is not an integer (digits in quotes, e.g. \"1000\"): %s", s, err)
		}
	case !isString:
		return fieldErr(path, "must be a string in quotes, got %s", describeJSON(v))
	}
	return nil
}

// unmarshalQuoted reads s as the codec reads the JSON string "s" into a
// custom type (LegacyDec, Int), so that both accept the same text.
func unmarshalQuoted(dst json.Unmarshaler, s string) error {
	bz, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return dst.UnmarshalJSON(bz)
}

// integerBounds is the range of each integer kind, as text.
func integerBounds(kind protoreflect.Kind) (bits int, signed bool, lo, hi string) {
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return 32, true, strconv.FormatInt(math.MinInt32, 10), strconv.FormatInt(math.MaxInt32, 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return 64, true, strconv.FormatInt(math.MinInt64, 10), strconv.FormatInt(math.MaxInt64, 10)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return 64, false, "0", strconv.FormatUint(math.MaxUint64, 10)
	}
	return 32, false, "0", strconv.FormatUint(math.MaxUint32, 10)
}

func checkInteger(kind protoreflect.Kind, v any, path string) error {
	bits, signed, lo, hi := integerBounds(kind)
	s, ok := numberText(v)
	var err error
	if ok {
		if signed {
			_, err = strconv.ParseInt(s, 10, bits)
		} else {
			_, err = strconv.ParseUint(s, 10, bits)
		}
	}
	if ok && err == nil {
		return nil
	}
	form := "a number"
	if bits == 64 {
		form = `a quoted string such as "5000" (a number is read too)`
	}
	return fieldErr(path, "must be a whole number from %s to %s, %s; got %s", lo, hi, form, describeJSON(v))
}

// numberText is the text of a JSON number, or of a string holding one (the
// codec reads both for numeric fields).
func numberText(v any) (string, bool) {
	switch t := v.(type) {
	case json.Number:
		return t.String(), true
	case string:
		return t, true
	}
	return "", false
}

func checkEnum(ed protoreflect.EnumDescriptor, v any, path string) error {
	names := enumNames(ed)
	switch t := v.(type) {
	case string:
		if ed.Values().ByName(protoreflect.Name(t)) != nil {
			return nil
		}
		return fieldErr(path, "%q is not one of %s", t, strings.Join(names, ", "))
	case json.Number:
		return fieldErr(path, "name the value, one of %s, rather than the number %s", strings.Join(names, ", "), t)
	}
	return fieldErr(path, "must be one of %s (a quoted name), got %s", strings.Join(names, ", "), describeJSON(v))
}

func enumNames(ed protoreflect.EnumDescriptor) []string {
	names := make([]string, ed.Values().Len())
	for i := range names {
		names[i] = strconv.Quote(string(ed.Values().Get(i).Name()))
	}
	return names
}

func fieldNames(md protoreflect.MessageDescriptor) string {
	names := make([]string, md.Fields().Len())
	for i := range names {
		names[i] = string(md.Fields().Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func oneofNames(oo protoreflect.OneofDescriptor) string {
	names := make([]string, oo.Fields().Len())
	for i := range names {
		names[i] = string(oo.Fields().Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func describeMessage(path string) string {
	if path == "" {
		return "a manifest"
	}
	return path
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describeJSON names a JSON value's type, with the value when it is short.
func describeJSON(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("the boolean %t", t)
	case json.Number:
		return "the number " + t.String()
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return "the string " + strconv.Quote(t)
	case []any:
		return "a list"
	case jsonObject:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
