package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/app/dashboard"
)

// gatewayStatus is what the stand-in for the grpc-gateway's catch-all route
// answers, so a test can tell the dashboard did not serve a path.
const gatewayStatus = http.StatusTeapot

// newServer is the API server's router as the SDK builds it: the dashboard
// registered (or not) by cfg, then the gateway's catch-all "/".
func newServer(t *testing.T, cfg dashboard.Config) *httptest.Server {
	router := mux.NewRouter()
	dashboard.Register(router, cfg)
	router.PathPrefix("/").HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(gatewayStatus)
	})
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return srv
}

type appOptions map[string]interface{}

func (o appOptions) Get(key string) interface{} { return o[key] }

func TestHandler(t *testing.T) {
	srv := newServer(t, dashboard.DefaultConfig())
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		body        string // a part of the body
		location    string
	}{
		{name: "index", path: "/dashboard/", status: http.StatusOK, contentType: "text/html; charset=utf-8", body: `<script type="module" src="js/main.js">`},
		{name: "no slash redirects", path: "/dashboard", status: http.StatusMovedPermanently, location: "/dashboard/"},
		{name: "module script", path: "/dashboard/js/main.js", status: http.StatusOK, contentType: "text/javascript; charset=utf-8", body: "import"},
		{name: "style sheet", path: "/dashboard/dashboard.css", status: http.StatusOK, contentType: "text/css; charset=utf-8"},
		{name: "unknown file", path: "/dashboard/nope.js", status: http.StatusNotFound},
		{name: "no directory listing", path: "/dashboard/js/", status: http.StatusNotFound},
		{name: "not under the prefix", path: "/dashboardx", status: http.StatusNotFound},
		{name: "post refused", method: http.MethodPost, path: "/dashboard/", status: http.StatusMethodNotAllowed},
		{name: "other routes reach the gateway", path: "/avschain/avs/v1/params", status: gatewayStatus},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode, string(body))
			if tc.contentType != "" {
				require.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
				require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
			}
			require.Contains(t, string(body), tc.body)
			if tc.location != "" {
				require.Equal(t, tc.location, resp.Header.Get("Location"))
			}
		})
	}
}

func TestHandlerDisabled(t *testing.T) {
	srv := newServer(t, dashboard.Config{Enable: false})
	resp, err := srv.Client().Get(srv.URL + "/dashboard/")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, gatewayStatus, resp.StatusCode, "the dashboard is not mounted: the request falls through to the gateway")
}

func TestConfigFromAppOptions(t *testing.T) {
	tests := []struct {
		name string
		opts appOptions
		want bool
	}{
		{name: "no [dashboard] section: on", opts: appOptions{}, want: true},
		{name: "enable = true", opts: appOptions{"dashboard.enable": true}, want: true},
		{name: "enable = false", opts: appOptions{"dashboard.enable": false}, want: false},
		{name: "enable = \"false\" (env var)", opts: appOptions{"dashboard.enable": "false"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, dashboard.ConfigFromAppOptions(tc.opts).Enable)
		})
	}
}
