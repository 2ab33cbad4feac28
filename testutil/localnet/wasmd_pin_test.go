package localnet

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// requirements reads the module versions a go.mod requires, and its replace
// directives, by module path.
func requirements(t *testing.T, path string) (map[string]string, map[string]string) {
	t.Helper()
	bz, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(?:require )?\s*(\S+) (v\S+)(?: // indirect)?$`).FindAllSubmatch(bz, -1) {
		req[string(m[1])] = string(m[2])
	}
	repl := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\S+) => (\S+ \S+)$`).FindAllSubmatch(bz, -1) {
		repl[string(m[1])] = string(m[2])
	}
	return req, repl
}

// TestWasmdPin: tools/wasmd, the module scripts/build-wasmd.sh builds wasmd
// in, requires the wasmd version the app's go.mod pins, keeps every module
// both graphs share at the app's version (so "the wasmd the app pins" is what
// the IBC-client tests run, and its build reuses the app's build cache), and
// has the app's replace directives.
func TestWasmdPin(t *testing.T) {
	root := RepoRoot()
	app, appRepl := requirements(t, filepath.Join(root, "go.mod"))
	tool, toolRepl := requirements(t, filepath.Join(root, "tools", "wasmd", "go.mod"))
	const wasmd = "github.com/CosmWasm/wasmd"
	if app[wasmd] == "" || tool[wasmd] != app[wasmd] {
		t.Fatalf("tools/wasmd requires %s %q, go.mod %q: set tools/wasmd/go.mod to go.mod's version", wasmd, tool[wasmd], app[wasmd])
	}
	shared := 0
	for mod, v := range tool {
		if av, ok := app[mod]; ok {
			shared++
			if av != v {
				t.Errorf("%s: tools/wasmd has %s, go.mod %s: align tools/wasmd/go.mod with go.mod", mod, v, av)
			}
		}
	}
	if shared < 100 {
		t.Fatalf("only %d modules in common: is tools/wasmd/go.mod read right?", shared)
	}
	for mod, to := range appRepl {
		if toolRepl[mod] != to {
			t.Errorf("replace %s => %s is missing from tools/wasmd/go.mod", mod, to)
		}
	}
}
