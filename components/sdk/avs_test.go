package avs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func envLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func validEnv() map[string]string {
	return map[string]string{
		EnvTaskID:      "42",
		EnvServiceID:   "7",
		EnvChainID:     "avschain-1",
		EnvBlockHeight: "1234",
		EnvBlockTime:   "2025-01-02T03:04:05.123456789Z",
	}
}

func TestParseContext(t *testing.T) {
	c, err := ParseContext(envLookup(validEnv()))
	if err != nil {
		t.Fatal(err)
	}
	want := TaskContext{
		TaskID: 42, ServiceID: 7, ChainID: "avschain-1", BlockHeight: 1234,
		BlockTime: time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC),
	}
	if c.TaskID != want.TaskID || c.ServiceID != want.ServiceID || c.ChainID != want.ChainID ||
		c.BlockHeight != want.BlockHeight || !c.BlockTime.Equal(want.BlockTime) {
		t.Fatalf("got %+v, want %+v", c, want)
	}

	// An offset time without fractional seconds is RFC 3339 too.
	env := validEnv()
	env[EnvBlockTime] = "2025-01-02T05:04:05+02:00"
	c, err = ParseContext(envLookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if !c.BlockTime.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("block time %v", c.BlockTime)
	}
}

func TestParseContextErrors(t *testing.T) {
	cases := []struct {
		key, value string // value "" with del=true removes the key
		del        bool
		want       string
	}{
		{EnvTaskID, "", true, "AVS_TASK_ID is not set"},
		{EnvTaskID, "-1", false, "AVS_TASK_ID=\"-1\" is not an unsigned integer"},
		{EnvServiceID, "x", false, "AVS_SERVICE_ID=\"x\" is not an unsigned integer"},
		{EnvChainID, "", false, "AVS_CHAIN_ID is not set"},
		{EnvBlockHeight, "-5", false, "AVS_BLOCK_HEIGHT=\"-5\" is not a non-negative integer"},
		{EnvBlockHeight, "99999999999999999999", false, "is not a non-negative integer"},
		{EnvBlockTime, "2025-01-02 03:04:05", false, "is not an RFC 3339 time"},
		{EnvBlockTime, "", true, "AVS_BLOCK_TIME is not set"},
	}
	for _, tc := range cases {
		env := validEnv()
		if tc.del {
			delete(env, tc.key)
		} else {
			env[tc.key] = tc.value
		}
		_, err := ParseContext(envLookup(env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: error %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}

	// Every problem is reported at once.
	_, err := ParseContext(envLookup(nil))
	for _, k := range []string{EnvTaskID, EnvServiceID, EnvChainID, EnvBlockHeight, EnvBlockTime} {
		if err == nil || !strings.Contains(err.Error(), k+" is not set") {
			t.Errorf("empty env: error %v does not name %s", err, k)
		}
	}
}

func TestCodeError(t *testing.T) {
	for code, want := range map[int64]error{
		-1: ErrHostNotAllowed,
		-2: ErrRequestFailed,
		-3: ErrMalformedRequest,
		-4: ErrResponseTooLarge,
	} {
		if got := CodeError(code); got != want {
			t.Errorf("CodeError(%d) = %v, want %v", code, got, want)
		}
	}
	if err := CodeError(-9); err == nil || !strings.Contains(err.Error(), "-9") {
		t.Errorf("CodeError(-9) = %v", err)
	}

	err := error(&HostError{Op: "http_fetch", Target: "https://x.test/p", Err: ErrHostNotAllowed})
	if !errors.Is(err, ErrHostNotAllowed) {
		t.Error("HostError does not unwrap to its code error")
	}
	var he *HostError
	if !errors.As(err, &he) || he.Op != "http_fetch" {
		t.Error("errors.As(*HostError) failed")
	}
	for _, tc := range []struct {
		err  *HostError
		want string
	}{
		{&HostError{"http_fetch", "https://x.test/p", ErrHostNotAllowed}, "avs: http_fetch https://x.test/p: not allowed: host not on the service's allow-list"},
		{&HostError{"http_fetch", "u", ErrRequestFailed}, "avs: http_fetch u: request failed (network error or non-2xx status)"},
		{&HostError{"chain_query", "/p", ErrHostNotAllowed}, "avs: chain_query /p: not allowed: not a Query method of this chain"},
		{&HostError{"chain_query", "/p", ErrMalformedRequest}, "avs: chain_query /p: malformed query path or JSON request"},
		{&HostError{"chain_query", "/p", ErrResponseTooLarge}, "avs: chain_query /p: response larger than 1 MiB"},
		{&HostError{"http_fetch", "u", ErrNoHost}, "avs: http_fetch u: avs host functions are only available in a GOOS=wasip1 component"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("message %q, want %q", got, tc.want)
		}
	}
}

// fakeHost follows the host's buffer convention for a fixed body.
func fakeHost(body []byte, calls *[]int) func([]byte) int64 {
	return func(buf []byte) int64 {
		*calls = append(*calls, len(buf))
		copy(buf, body)
		return int64(len(body))
	}
}

func TestCallWithRetry(t *testing.T) {
	small := []byte(`{"price":1}`)
	var calls []int
	got, err := callWithRetry(fakeHost(small, &calls))
	if err != nil || string(got) != string(small) || len(calls) != 1 {
		t.Fatalf("small: %q %v calls=%v", got, err, calls)
	}

	big := []byte(strings.Repeat("x", initialBufSize+10))
	calls = nil
	got, err = callWithRetry(fakeHost(big, &calls))
	if err != nil || string(got) != string(big) {
		t.Fatalf("big: len %d %v", len(got), err)
	}
	if len(calls) != 2 || calls[0] != initialBufSize || calls[1] != len(big) {
		t.Fatalf("big: calls %v, want [%d %d]", calls, initialBufSize, len(big))
	}

	exact := []byte(strings.Repeat("y", initialBufSize))
	calls = nil
	if got, err = callWithRetry(fakeHost(exact, &calls)); err != nil || len(got) != initialBufSize || len(calls) != 1 {
		t.Fatalf("exact: len %d %v calls=%v", len(got), err, calls)
	}

	calls = nil
	if got, err = callWithRetry(fakeHost(nil, &calls)); err != nil || len(got) != 0 {
		t.Fatalf("empty: %q %v", got, err)
	}

	for code, want := range map[int64]error{-1: ErrHostNotAllowed, -2: ErrRequestFailed, -3: ErrMalformedRequest, -4: ErrResponseTooLarge} {
		if _, err := callWithRetry(func([]byte) int64 { return code }); err != want {
			t.Errorf("code %d: %v, want %v", code, err, want)
		}
	}

	// A host claiming more than 1 MiB is refused without allocating it.
	if _, err := callWithRetry(func([]byte) int64 { return MaxResponseSize + 1 }); err != ErrResponseTooLarge {
		t.Errorf("oversized: %v", err)
	}

	// A length that keeps growing ends the retries.
	n := int64(initialBufSize)
	_, err = callWithRetry(func([]byte) int64 { n += 100; return n })
	if err != ErrResponseUnstable {
		t.Errorf("unstable: %v", err)
	}
}

func TestConfig(t *testing.T) {
	t.Setenv("PRICE_URL", "http://127.0.0.1:1/p")
	if got := Config("PRICE_URL"); got != "http://127.0.0.1:1/p" {
		t.Errorf("Config = %q", got)
	}
	if got := Config("AVS_TEST_UNSET_KEY"); got != "" {
		t.Errorf("unset Config = %q", got)
	}
}

func TestParseTriggerEvent(t *testing.T) {
	in := []byte(`{"trigger":"event","service_id":3,"height":120,"tx_hash":"AB","event_index":7,` +
		`"event":{"type":"wasm-x","attributes":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}}`)
	e, ok := ParseTriggerEvent(in)
	if !ok || e.ServiceID != 3 || e.Height != 120 || e.TxHash != "AB" || e.EventIndex != 7 || e.Event.Type != "wasm-x" {
		t.Fatalf("ParseTriggerEvent = %+v, %v", e, ok)
	}
	if v, ok := e.Attr("a"); !ok || v != "1" {
		t.Errorf("Attr(a) = %q, %v; want the first, 1", v, ok)
	}
	if _, ok := e.Attr("b"); ok {
		t.Error("Attr(b) found an attribute the event does not have")
	}
	for _, bad := range []string{`7`, `{"trigger":"block_interval","height":4}`, `{"trigger":"event"}`, `not json`} {
		if _, ok := ParseTriggerEvent([]byte(bad)); ok {
			t.Errorf("ParseTriggerEvent(%s) accepted input that is not an event trigger's", bad)
		}
	}
}
