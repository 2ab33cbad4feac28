//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// The guides run as written (issue #19). A fenced block whose info string
// is "sh guide" in README.md or a role guide is a walkthrough step: the test
// runs every such block, in order, against a fresh localnet, in one shell
// (set -euo pipefail), so a variable one block sets is there in the next. A
// "sh guide-background" block runs in the background in its own process
// group (a sidecar), stopped when the test ends. A "text guide-output" block
// right after a step lists lines its output must contain.
//
// The steps use what `make localnet` gives a user: the chain avs-local-1 with
// its home in .localnet/avs-local-1 (client.toml names the chain, the node
// and the test keyring), binaries in build/, the ports of the localnet table;
// docs/RELAYER.md adds a second chain, avs-ibc-b (home .localnet/avs-ibc-b,
// rpc 27157), and build/rly; docs/IBC-CLIENTS.md a wasmd chain, wasmd-local-1
// (home .localnet/wasmd-local-1, rpc 26857), and build/wasmd. The test runs them in a temp dir laid out the
// same way (the .localnet homes are the test chains', build/ holds $AVSD,
// $AVS_SIDECAR and rly, components/, examples/, contracts/ and scripts/ are
// the repository's), with the test chains' free ports put for the default
// ones.

// guideFiles are the files whose guide blocks run, in this order.
var guideFiles = []string{"README.md", "docs/COMMITTERS.md", "docs/RELAYER.md", "docs/IBC-CLIENTS.md"}

// guideStep is one fenced block of a guide.
type guideStep struct {
	file       string
	line       int
	background bool
	script     string
	want       []string // lines the output must contain
}

var fence = regexp.MustCompile("^```(.*)$")

// readGuideSteps returns the guide blocks of path in order.
func readGuideSteps(t *testing.T, root, path string) []guideStep {
	t.Helper()
	f, err := os.Open(filepath.Join(root, path))
	require.NoError(t, err)
	defer f.Close()
	var steps []guideStep
	var cur *guideStep
	var kind string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := fence.FindStringSubmatch(line)
		switch {
		case cur == nil && kind == "" && m != nil:
			switch info := strings.TrimSpace(m[1]); info {
			case "sh guide", "sh guide-background":
				steps = append(steps, guideStep{file: path, line: n, background: info == "sh guide-background"})
				cur, kind = &steps[len(steps)-1], "step"
			case "text guide-output":
				require.NotEmpty(t, steps, "%s:%d: guide-output before any guide step", path, n)
				cur, kind = &steps[len(steps)-1], "output"
			default:
				kind = "other"
			}
		case m != nil && strings.TrimSpace(m[1]) == "": // a closing fence
			cur, kind = nil, ""
		case kind == "step":
			cur.script += line + "\n"
		case kind == "output":
			if s := strings.TrimSpace(line); s != "" {
				cur.want = append(cur.want, s)
			}
		}
	}
	require.NoError(t, sc.Err())
	return steps
}

// TestGuidesRunAsWritten runs the guides' blocks against a fresh localnet.
func TestGuidesRunAsWritten(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	var steps []guideStep
	for _, f := range guideFiles {
		steps = append(steps, readGuideSteps(t, root, f)...)
	}
	require.NotEmpty(t, steps)

	rly := relayerBinary(t)
	node := localnet.Start(t, localnet.Options{ChainID: "avs-local-1"})
	chainB := localnet.Start(t, localnet.Options{ChainID: "avs-ibc-b"})
	wasmd := localnet.StartWasmd(t, localnet.Options{ChainID: "wasmd-local-1"})
	work := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "build"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(work, ".localnet"), 0o755))
	for link, target := range map[string]string{
		"build/avsd":              node.Bin,
		"build/avs-sidecar":       sidecarBinary(t),
		"build/rly":               rly,
		"build/wasmd":             wasmd.Bin,
		".localnet/wasmd-local-1": wasmd.Home,
		".localnet/avs-local-1":   node.Home,
		".localnet/avs-ibc-b":     chainB.Home,
		"scripts":                 filepath.Join(root, "scripts"),
		"components":              filepath.Join(root, "components"),
		"examples":                filepath.Join(root, "examples"),
		"contracts":               filepath.Join(root, "contracts"),
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(work, link)), 0o755))
		require.NoError(t, os.Symlink(target, filepath.Join(work, link)))
	}
	// the default localnet ports the guides name, and the test chain's
	ports := map[string]string{
		"26657": strconv.Itoa(node.RPCPort),
		"9090":  strconv.Itoa(node.GRPCPort),
		"1317":  strconv.Itoa(node.APIPort),
		"27157": strconv.Itoa(chainB.RPCPort),
		"26857": strconv.Itoa(wasmd.RPCPort),
	}
	for i, p := range localnet.FreePorts(t, 3) { // the sidecars' metrics
		ports[strconv.Itoa(9464+i)] = strconv.Itoa(p)
	}
	portRe := regexp.MustCompile(`\b(26657|9090|1317|9464|9465|9466|27157|26857)\b`)

	// One script: a marker before each step, the background ones started
	// with setsid (their process group ids written to pgids).
	pgids := filepath.Join(work, ".pgids")
	var script strings.Builder
	script.WriteString("set -euo pipefail\ncd " + strconv.Quote(work) + "\n")
	for i, s := range steps {
		body := portRe.ReplaceAllStringFunc(s.script, func(p string) string { return ports[p] })
		fmt.Fprintf(&script, "printf '\\n@@step %d@@\\n'\n", i)
		if s.background {
			file := filepath.Join(work, fmt.Sprintf(".background-%d.sh", i))
			require.NoError(t, os.WriteFile(file, []byte("set -euo pipefail\n"+body), 0o600))
			fmt.Fprintf(&script, "setsid bash %s > %s.log 2>&1 < /dev/null &\necho $! >> %s\n", file, file, pgids)
			continue
		}
		script.WriteString(body)
	}
	script.WriteString("printf '\\n@@done@@\\n'\n")
	t.Cleanup(func() { stopBackground(t, pgids) })

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, runErr := cmd.CombinedOutput()

	// Split the output by step and check each.
	marker := regexp.MustCompile(`(?m)^@@(step \d+|done)@@$`)
	parts := marker.Split(string(out), -1)
	markers := marker.FindAllStringSubmatch(string(out), -1)
	last := -1
	for j, m := range markers {
		if m[1] == "done" {
			last = len(steps)
			continue
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(m[1], "step "))
		last = i
		s := steps[i]
		output := parts[j+1]
		for _, w := range s.want {
			require.Contains(t, output, w, "%s:%d: the step's output lacks %q; it printed:\n%s\nbackground logs:\n%s",
				s.file, s.line, w, output, backgroundLogs(work))
		}
	}
	if runErr != nil || last != len(steps) {
		require.GreaterOrEqual(t, last, 0, "no step ran: %v\n%s", runErr, out)
		require.Less(t, last, len(steps), "the guides' script failed after its last step: %v\n%s", runErr, out)
		s := steps[last]
		t.Fatalf("%s:%d: the guide step failed (%v):\n%s\nits output:\n%s\nbackground logs:\n%s",
			s.file, s.line, runErr, s.script, parts[len(parts)-1], backgroundLogs(work))
	}
	t.Logf("%d guide steps of %s ran as written", len(steps), strings.Join(guideFiles, ", "))
}

// sidecarBinary is $AVS_SIDECAR, or build/avs-sidecar beside $AVSD.
func sidecarBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AVS_SIDECAR"); p != "" {
		return p
	}
	p := filepath.Join(filepath.Dir(os.Getenv("AVSD")), "avs-sidecar")
	_, err := os.Stat(p)
	require.NoError(t, err, "the guides run avs-sidecar: set AVS_SIDECAR or build it beside $AVSD (make build)")
	return p
}

// stopBackground kills the process group of every background step.
func stopBackground(t *testing.T, pgids string) {
	bz, err := os.ReadFile(pgids)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(bz)) {
		if pgid, err := strconv.Atoi(f); err == nil && pgid > 1 {
			if err := syscall.Kill(-pgid, syscall.SIGTERM); err == nil {
				t.Logf("stopped background step (process group %d)", pgid)
			}
		}
	}
}

// backgroundLogs is the tail of each background step's log.
func backgroundLogs(work string) string {
	var b bytes.Buffer
	logs, _ := filepath.Glob(filepath.Join(work, ".background-*.sh.log"))
	for _, l := range logs {
		bz, _ := os.ReadFile(l)
		if len(bz) > 3000 {
			bz = bz[len(bz)-3000:]
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(l), bz)
	}
	return b.String()
}
