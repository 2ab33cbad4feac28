//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/avschain/avschain/testutil/localnet"
)

// chromiumPath is Debian's chromium package (.ci/run installs it).
const chromiumPath = "/usr/bin/chromium"

// TestDashboard runs the chain's own web dashboard (/dashboard/ on the API
// server) in real headless Chromium against a chain with a STAKE service of
// three operators, carol's commitment to operator1, one completed and one
// failed task. Every view must show the chain's values, make no failed
// request and log no console error; a screenshot of each view is saved.
func TestDashboard(t *testing.T) {
	node := localnet.Start(t, localnet.Options{ChainID: "avs-e2e-dashboard"})
	digest := storeComponent(t, node, component("square-rust"))
	service := createService(t, node, manifest{Name: "square", Digest: digest, Threshold: "0.66", Weighting: "WEIGHTING_STAKE"})
	for _, op := range operators {
		require.Zero(t, node.Tx(op, "avs", "register-operator", op, "--commission", "0.1").Code)
		require.Zero(t, node.Tx(op, "avs", "opt-in", service).Code)
		require.Zero(t, node.Tx(op, "avs", "commit", node.KeyAddress(op), service, "1000000uavs").Code)
	}
	op1, carol := node.KeyAddress("operator1"), node.KeyAddress("carol")
	require.Zero(t, node.Tx("carol", "avs", "commit", op1, service, "1000000uavs").Code)

	sidecars := startSidecars(node, operators...)
	defer logSidecars(t, sidecars...)

	// carol's commitment earns from the next epoch (epoch_length 100, L-2)
	waitNextEpoch(t, node)

	done := createTask(t, node, service, "6")
	failed := createTask(t, node, service, "x")
	require.Equal(t, "TASK_STATUS_COMPLETED", waitTask(t, node, done, 60*time.Second).Status)
	require.Equal(t, "TASK_STATUS_FAILED", waitTask(t, node, failed, 60*time.Second).Status)
	waitVotes(t, node, done, 3, 30*time.Second)
	waitVotes(t, node, failed, 3, 30*time.Second)

	var rewards struct {
		Rewards struct {
			Amount string `json:"amount"`
		} `json:"rewards"`
	}
	node.Query(&rewards, "avs", "rewards", carol)
	require.NotEqual(t, "0", rewards.Rewards.Amount, "carol's commitment earned a share of the completed task's fee")

	b := startBrowser(t)
	base := fmt.Sprintf("http://127.0.0.1:%d/dashboard/", node.APIPort)
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Navigate(base)))

	// network
	text := b.view(t, "#/", "network", "Latest tasks", "square", "4,000,000 uavs")
	require.Equal(t, "1", b.text(t, `[data-stat="services"] .v`))
	require.Equal(t, "3", b.text(t, `[data-stat="operators"] .v`))
	require.Equal(t, "1", b.text(t, `[data-stat="tasks-completed"] .v`))
	require.Equal(t, "1", b.text(t, `[data-stat="tasks-failed"] .v`))
	require.Equal(t, "4,000,000 uavs", b.text(t, `[data-stat="staked"] .v`), "three operators' million each and carol's")
	require.Contains(t, text, "square")
	b.screenshot(t, "network")

	// service
	text = b.view(t, "#/service/"+service, "service", append([]string{"Service " + service + ": square", "byte-identical"}, operators...)...)
	for _, op := range operators {
		require.Contains(t, text, op)
	}
	require.Contains(t, text, "byte-identical", "the manifest in words")
	require.Equal(t, 3, b.count(t, `svg.bars g[data-label]`), "a power bar per operator")
	require.Equal(t, "2000000", b.attr(t, `svg.bars g[data-label="operator1"]`, "data-value"), "operator1: its million and carol's")
	b.screenshot(t, "service")

	// the completed task: its result, and the three operators' votes
	text = b.view(t, "#/task/"+done, "task", append([]string{"Task " + done, "COMPLETED"}, operators...)...)
	require.Equal(t, "36", b.text(t, `#result pre.bytes[data-kind="text"]`))
	for _, op := range operators {
		require.Contains(t, text, op)
	}
	require.Equal(t, 3, b.count(t, `section.panel:last-child tbody tr`), "three votes")
	require.Equal(t, 1, b.count(t, `svg.bars g[data-label]`), "one digest group")
	require.Equal(t, getTask(node, done).PowerFor, b.attr(t, `svg.bars g[data-label]`, "data-value"),
		"the group's bar is the power that decided the task (a vote after the decision is late, not tallied)")
	require.Contains(t, text, "COMPLETED")
	b.screenshot(t, "task-completed")

	text = b.view(t, "#/task/"+failed, "task", "Task "+failed, "FAILED", "fails on this input: EXIT")
	require.Contains(t, text, "FAILED")
	require.Contains(t, text, "fails on this input: EXIT")
	require.Equal(t, 3, b.count(t, `section.panel:last-child tbody tr`), "three failure votes")
	b.screenshot(t, "task-failed")

	// operator1: its pool holds its own stake and carol's
	text = b.view(t, "#/operator/"+op1, "operator", "Operator operator1", "10%", "2,000,000 uavs", "the accepted result")
	require.Contains(t, text, "10%")
	require.Contains(t, text, "2,000,000 uavs")
	require.Contains(t, text, "the accepted result", "its vote on the completed task")
	b.screenshot(t, "operator")

	// carol's commitments
	text = b.view(t, "#/commitments/"+carol, "commitments", carol, "1,000,000 uavs", "operator1", "withdraw-rewards")
	require.Equal(t, "1,000,000 uavs", b.text(t, `[data-stat="value"] .v`))
	require.Equal(t, thousands(rewards.Rewards.Amount)+" uavs", b.text(t, `[data-stat="rewards"] .v`))
	require.Contains(t, text, "operator1")
	require.Contains(t, text, fmt.Sprintf("avsd tx avs commit %s %s 1000000uavs --from %s --chain-id avs-e2e-dashboard", op1, service, carol))
	require.Contains(t, text, fmt.Sprintf("avsd tx avs uncommit %s %s 1000000uavs --from %s", op1, service, carol))
	require.Contains(t, text, "avsd tx avs withdraw-rewards --from "+carol)
	b.screenshot(t, "commitments")

	require.Empty(t, b.problems(), "failed requests or console errors")

	// bad input: an unknown task, and a malformed address, shown in the page
	b.expect("/avschain/avs/v1/tasks/999999")
	text = b.view(t, "#/task/999999", "task", "Not found", "task 999999 not found")
	require.Contains(t, text, "task 999999 not found")
	b.screenshot(t, "task-unknown")
	text = b.view(t, "#/commitments/avs1notanaddress", "commitments", "Bad input", "is not an avschain address")
	require.Contains(t, text, "is not an avschain address")
	require.Empty(t, b.problems(), "failed requests or console errors besides the unknown task's 404")
}

// browser is a headless Chromium page and what it reported.
type browser struct {
	ctx context.Context
	dir string // screenshots

	mu       sync.Mutex
	errs     []string
	expected []string // URL parts whose failure a test provoked
}

func startBrowser(t *testing.T) *browser {
	_, err := os.Stat(chromiumPath)
	require.NoError(t, err, "install Debian's chromium package (.ci/run does)")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &browser{ctx: ctx, dir: artifactDir(t)}
	t.Logf("dashboard screenshots in %s", b.dir)
	// Listen starts the browser; chromedp enables the runtime, log and
	// network domains of the tab.
	err = chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				b.report("", fmt.Sprintf("console.%s: %s", ev.Type, consoleArgs(ev.Args)))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.report("", fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				b.report(ev.Entry.URL, fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventLoadingFailed:
			b.report("", fmt.Sprintf("request failed: %s (%s)", ev.ErrorText, ev.Type))
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				b.report(ev.Response.URL, fmt.Sprintf("HTTP %d: %s", ev.Response.Status, ev.Response.URL))
			}
		}
	})
	require.NoError(t, err, "start %s", chromiumPath)
	return b
}

func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if a.Description != "" {
			parts = append(parts, a.Description)
		} else {
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

// report records a problem, unless url is one a test provoked.
func (b *browser) report(url, msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.expected {
		if url != "" && strings.Contains(url, e) {
			return
		}
	}
	b.errs = append(b.errs, msg)
}

func (b *browser) expect(urlPart string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, urlPart)
}

func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// view goes to hash and waits until the page of view shows want; it returns
// the view's text.
// view opens hash and waits until its view shows every one of wants (a view
// renders its parts as their queries answer: wait for the last one read). It
// returns the text it saw them in, read in the same evaluation: the page may
// render again right after (a new block, or the first one's fresh render).
func (b *browser) view(t *testing.T, hash, view string, wants ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	wantJSON, err := json.Marshal(wants)
	require.NoError(t, err)
	js := fmt.Sprintf(`(() => {
		const v = document.querySelector('#view > [data-view=%q]');
		return v && %s.every(w => v.innerText.includes(w)) ? document.getElementById('view').innerText : '';
	})()`, view, wantJSON)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`location.hash = %q`, hash)))
	require.NoError(t, err)
	text, err := chromedp.Run(ctx, chromedp.Poll[string](js, chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		shown, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('view').innerText`))
		require.NoError(t, err, "%s: the %s view does not show all of %q; it shows:\n%s\nproblems: %v", hash, view, wants, shown, b.problems())
	}
	return text
}

// text and attr read one node in a single evaluation, polling until it
// exists: the page renders again every block, so a node found by one
// DevTools call may be gone by the next.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return strings.TrimSpace(b.read(t, sel, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? JSON.stringify(e.innerText) : ''; })()`, sel)))
}

func (b *browser) attr(t *testing.T, sel, name string) string {
	t.Helper()
	return b.read(t, sel, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.hasAttribute(%q) ? JSON.stringify(e.getAttribute(%q)) : ''; })()`, sel, name, name))
}

// read polls js, which returns a JSON string once sel is there, and decodes it.
func (b *browser) read(t *testing.T, sel, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Poll[string](js, chromedp.WithPollingInterval(100*time.Millisecond)))
	require.NoError(t, err, "%s: not on the page", sel)
	var v string
	require.NoError(t, json.Unmarshal([]byte(raw), &v), sel)
	return v
}

func (b *browser) count(t *testing.T, sel string) int {
	t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	require.NoError(t, err, sel)
	return n
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o600))
}

// artifactDir is where the test's screenshots go: under $AVS_E2E_ARTIFACTS
// when set, else in a new directory under the system temp dir that outlives
// the test (testing.T.ArtifactDir needs go 1.26 in go.mod).
func artifactDir(t *testing.T) string {
	root := os.Getenv("AVS_E2E_ARTIFACTS")
	if root != "" {
		dir := filepath.Join(root, t.Name())
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	dir, err := os.MkdirTemp("", "avs-e2e-"+t.Name()+"-")
	require.NoError(t, err)
	return dir
}

// thousands writes a whole number as the dashboard does (en-US grouping).
func thousands(s string) string {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s
	}
	out := strconv.FormatUint(n, 10)
	for i := len(out) - 3; i > 0; i -= 3 {
		out = out[:i] + "," + out[i:]
	}
	return out
}
