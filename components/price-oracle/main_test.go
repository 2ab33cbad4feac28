package main

import (
	"strings"
	"testing"
)

func TestFormatDecimal(t *testing.T) {
	for in, want := range map[string]string{
		"123.45":                  "123.45",
		"123.450":                 "123.45",
		"100":                     "100",
		"0":                       "0",
		"-0.0":                    "0",
		"-2.5":                    "-2.5",
		"1e3":                     "1000",
		"1.5E-3":                  "0.0015",
		"1e21":                    "1000000000000000000000",
		"0.1234567890123456789":   "0.123456789012345679", // rounded to 18 places
		"0.0000000000000000004":   "0",
		"0.0000000000000000005":   "0.000000000000000001", // halves round away from zero
		"98765432109876543210.01": "98765432109876543210.01",
	} {
		got, err := formatDecimal(in)
		if err != nil || got != want {
			t.Errorf("formatDecimal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1/3", "0x10", "1_000", "NaN", "Inf", "+1", "01", ".5", "1.", "1e999999999", "1e-101"} {
		if got, err := formatDecimal(in); err == nil {
			t.Errorf("formatDecimal(%q) = %q, want an error", in, got)
		}
	}
}

func TestExtract(t *testing.T) {
	ok := []struct{ body, field, want string }{
		{`{"price": 123.45}`, "price", "123.45"},
		{`{"price": "67000.10", "symbol": "BTC"}`, "price", "67000.1"},
		{`{"last": 1.5e2}`, "last", "150"},
		{`{"bitcoin": {"usd": 67000}}`, "bitcoin.usd", "67000"},
		{`{"a.b": 1, "a": {"b": 2}}`, "a.b", "1"}, // an exact key wins over a path
	}
	for _, tc := range ok {
		got, err := extract([]byte(tc.body), tc.field)
		if err != nil || got != tc.want {
			t.Errorf("extract(%s, %q) = %q, %v; want %q", tc.body, tc.field, got, err, tc.want)
		}
	}
	bad := []struct{ body, field, want string }{
		{`{"price": 1}`, "last", "not found"},
		{`{"price": null}`, "price", "null, not a number"},
		{`{"price": true}`, "price", "a boolean, not a number"},
		{`{"price": [1]}`, "price", "an array, not a number"},
		{`{"price": "n/a"}`, "price", "not a number"},
		{`[1, 2]`, "price", "not a JSON object"},
		{`null`, "price", "not a JSON object"},
		{`<html>`, "price", "not a JSON object"},
		{`{"bitcoin": 1}`, "bitcoin.usd", "not found"},
	}
	for _, tc := range bad {
		_, err := extract([]byte(tc.body), tc.field)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("extract(%s, %q) error %v, want %q", tc.body, tc.field, err, tc.want)
		}
	}
}
