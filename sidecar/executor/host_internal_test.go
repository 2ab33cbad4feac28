package executor

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/x/avs/types"
)

// fakeQuerier answers Query/Service and records what it was asked.
type fakeQuerier struct {
	path   string
	height int64
	req    types.QueryServiceRequest
	fail   bool
}

func (f *fakeQuerier) ABCIQuery(_ context.Context, path string, data []byte, height int64) ([]byte, error) {
	f.path, f.height = path, height
	if f.fail {
		return nil, errors.New("node unreachable")
	}
	if err := proto.Unmarshal(data, &f.req); err != nil {
		return nil, err
	}
	return proto.Marshal(&types.QueryServiceResponse{Service: types.Service{Id: f.req.ServiceId, Owner: "avs1owner", Manifest: types.ServiceManifest{Name: "square"}}})
}

// TestChainQuery covers chain_query's host side: JSON in, a protobuf query at
// the task's creation height, JSON out; only Query methods are allowed.
func TestChainQuery(t *testing.T) {
	q := &fakeQuerier{}
	env := &callEnv{job: Job{TaskID: 3, BlockHeight: 42}, querier: q, log: slog.Default()}

	out, code, _ := chainQuery(context.Background(), env, "/avschain.avs.v1.Query/Service", []byte(`{"service_id":"7"}`))
	require.Zero(t, code)
	require.Equal(t, "/avschain.avs.v1.Query/Service", q.path)
	require.EqualValues(t, 42, q.height, "queried at the task's creation height")
	require.EqualValues(t, 7, q.req.ServiceId)
	var res struct {
		Service struct {
			ID       string `json:"id"`
			Owner    string `json:"owner"`
			Manifest struct {
				Name string `json:"name"`
			} `json:"manifest"`
		} `json:"service"`
	}
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	require.Equal(t, "7", res.Service.ID)
	require.Equal(t, "square", res.Service.Manifest.Name)

	for _, tc := range []struct {
		name, path, req string
		code            int64
	}{
		{"a Msg service is not a query", "/avschain.avs.v1.Msg/CreateTask", `{}`, codeNotAllowed},
		{"unknown service", "/nope.v1.Query/Thing", `{}`, codeNotAllowed},
		{"unknown method", "/avschain.avs.v1.Query/Nope", `{}`, codeNotAllowed},
		{"not a method path", "avschain.avs.v1.Query/Service", `{}`, codeNotAllowed},
		{"malformed JSON", "/avschain.avs.v1.Query/Service", `{"service_id":`, codeMalformed},
		{"unknown request field", "/avschain.avs.v1.Query/Service", `{"nope":1}`, codeMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, code, _ := chainQuery(context.Background(), env, tc.path, []byte(tc.req))
			require.Equal(t, tc.code, code)
		})
	}

	q.fail = true
	_, code, _ = chainQuery(context.Background(), env, "/avschain.avs.v1.Query/Service", []byte(`{"service_id":"7"}`))
	require.EqualValues(t, codeFailed, code)

	noChain := &callEnv{job: Job{TaskID: 3}, log: slog.Default()}
	_, code, _ = chainQuery(context.Background(), noChain, "/avschain.avs.v1.Query/Service", nil)
	require.EqualValues(t, codeFailed, code, "exec mode has no chain")
}

func TestAllowList(t *testing.T) {
	for _, tc := range []struct {
		url  string
		list []string
		want bool
	}{
		{"https://prices.example.org/x", []string{"prices.example.org"}, true},
		{"https://prices.example.org:8443/x", []string{"prices.example.org"}, true},
		{"https://prices.example.org:8443/x", []string{"prices.example.org:8443"}, true},
		{"https://prices.example.org:9999/x", []string{"prices.example.org:8443"}, false},
		{"https://evil.example.org/x", []string{"prices.example.org"}, false},
		{"https://prices.example.org.evil.net/x", []string{"prices.example.org"}, false},
		{"https://PRICES.example.org/x", []string{"prices.example.org"}, true},
		{"http://127.0.0.1:80/x", nil, false},
	} {
		u := mustParse(t, tc.url)
		require.Equal(t, tc.want, allowed(u, tc.list), tc.url)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
