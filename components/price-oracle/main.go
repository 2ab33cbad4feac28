// Command price-oracle is an example avschain component for a MEDIAN
// service: it fetches a JSON object from the URL in the service config and
// writes one of its numeric fields as a plain decimal string (no exponent,
// at most 18 decimal places, no trailing newline), e.g. "123.45".
//
// Config keys:
//
//	PRICE_URL    the http(s) URL to GET (required; its host must be on the
//	             service's allow-list)
//	PRICE_FIELD  the field holding the price (default "price"); a JSON number
//	             or a string holding one. If the object has no such key and
//	             the name contains dots, it is a path into nested objects,
//	             e.g. "bitcoin.usd".
//
// Any failure (missing config, fetch error, missing or non-numeric field)
// exits with status 1: the operator casts no vote.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	avs "github.com/avschain/avschain/components/sdk"
)

// maxDecimals is the precision of the chain's decimal type (LegacyDec).
const maxDecimals = 18

// maxExponent bounds the exponent of an input number.
const maxExponent = 100

func main() {
	url := avs.Config("PRICE_URL")
	if url == "" {
		avs.Fail(errors.New("price-oracle: config key PRICE_URL is not set"))
	}
	field := avs.Config("PRICE_FIELD")
	if field == "" {
		field = "price"
	}
	body, err := avs.HTTPGet(url)
	if err != nil {
		avs.Fail(err)
	}
	price, err := extract(body, field)
	if err != nil {
		avs.Fail(fmt.Errorf("price-oracle: %s: %w", url, err))
	}
	avs.Log("price-oracle: %s %s = %s", url, field, price)
	if err := avs.Output([]byte(price)); err != nil {
		avs.Fail(err)
	}
}

// extract returns field of the JSON object body as a plain decimal string.
func extract(body []byte, field string) (string, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return "", err
	}
	v, ok := obj[field]
	if !ok && strings.Contains(field, ".") {
		v, ok = lookupPath(obj, strings.Split(field, "."))
	}
	if !ok {
		return "", fmt.Errorf("field %q not found", field)
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = strings.TrimSpace(x)
	default:
		return "", fmt.Errorf("field %q is %s, not a number", field, kind(v))
	}
	d, err := formatDecimal(text)
	if err != nil {
		return "", fmt.Errorf("field %q: %w", field, err)
	}
	return d, nil
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("response is not a JSON object: %w", err)
	}
	if obj == nil {
		return nil, errors.New("response is not a JSON object")
	}
	return obj, nil
}

func lookupPath(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// formatDecimal rewrites a JSON number as a plain decimal: no exponent, no
// trailing zeros, rounded to maxDecimals places.
func formatDecimal(s string) (string, error) {
	m := jsonNumber.FindStringSubmatch(s)
	if m == nil || len(s) > 256 {
		return "", fmt.Errorf("%q is not a number", s)
	}
	// Bound the exponent: big.Rat would expand 1e999999999 in full.
	if m[3] != "" {
		if e, err := strconv.Atoi(m[3][1:]); err != nil || e > maxExponent || e < -maxExponent {
			return "", fmt.Errorf("%q: exponent out of range", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("%q is not a number", s)
	}
	out := r.FloatString(maxDecimals)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	if out == "-0" {
		out = "0"
	}
	return out, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		return fmt.Sprintf("%T", v)
	}
}
