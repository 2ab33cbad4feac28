package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/spf13/cast"
)

// Path is where the dashboard is served on the API server.
const Path = "/dashboard"

// contentSecurityPolicy lets the pages load only from their own origin: the
// dashboard ships everything it needs in the binary, and a page that tried
// to reach anything else would fail loudly in the browser.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed static
var embedded embed.FS

// Config is the [dashboard] section of app.toml.
type Config struct {
	// Enable serves the dashboard on the API server (when api.enable is on).
	Enable bool `mapstructure:"enable"`
}

// DefaultConfig serves the dashboard.
func DefaultConfig() Config { return Config{Enable: true} }

// DefaultConfigTemplate is the [dashboard] section `avsd init` writes into
// app.toml.
const DefaultConfigTemplate = `
###############################################################################
###                             Dashboard                                   ###
###############################################################################

[dashboard]
# Serve the web dashboard at /dashboard/ on the API server (when api.enable
# is true): services, tasks, operators and commitments, read from this node's
# own REST routes.
enable = {{ .Dashboard.Enable }}
`

// AppOptions is the part of servertypes.AppOptions the dashboard reads.
type AppOptions interface {
	Get(string) interface{}
}

// ConfigFromAppOptions reads the [dashboard] section; an app.toml written
// before the dashboard existed has none and gets the default (on).
func ConfigFromAppOptions(opts AppOptions) Config {
	cfg := DefaultConfig()
	if v := opts.Get("dashboard.enable"); v != nil {
		cfg.Enable = cast.ToBool(v)
	}
	return cfg
}

// Handler serves the dashboard under Path: Path itself redirects to Path+"/",
// files are served from the embedded static directory, and anything else
// (directories other than the root, unknown files, other methods) is refused.
func Handler() http.Handler {
	static, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.StripPrefix(Path, http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		switch {
		case p == Path:
			http.Redirect(w, r, Path+"/", http.StatusMovedPermanently)
			return
		case !strings.HasPrefix(p, Path+"/"):
			http.NotFound(w, r)
			return
		case p != Path+"/" && strings.HasSuffix(p, "/"):
			http.NotFound(w, r) // no directory listings
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// Register mounts Handler on the API server's router when cfg enables it.
// It must run before the grpc-gateway's catch-all "/" route is added (the SDK
// adds that when the API server starts, after RegisterAPIRoutes).
func Register(router *mux.Router, cfg Config) {
	if !cfg.Enable {
		return
	}
	router.PathPrefix(Path).Handler(Handler())
}
