package localnet

// What the real-process tests need from the repository and the machine: its
// root, the dev accounts, the avsd and avs-sidecar binaries, free ports.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// RepoRoot is the repository root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// DevAccountsFile is the dev accounts' data file, NAME MNEMONIC a line, that
// scripts/localnet.sh funds in genesis and restores into the node's keyring.
func DevAccountsFile() string { return filepath.Join(RepoRoot(), "scripts", "dev-accounts.txt") }

// DevMnemonic returns the mnemonic of the dev account name (alice, carol,
// operator1, ...) from DevAccountsFile, to restore the same key elsewhere (a
// relayer's keyring, say).
func DevMnemonic(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(DevAccountsFile())
	if err != nil {
		t.Fatalf("dev accounts: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && fields[0] == name {
			return strings.Join(fields[1:], " ")
		}
	}
	t.Fatalf("no dev account %q in %s", name, DevAccountsFile())
	return ""
}

// binary is one program the tests run: from an environment variable when set
// (make test-e2e sets it; a relative path is taken from the repository root),
// otherwise built once per test process into a temp dir.
type binary struct {
	env, pkg, name string
	once           sync.Once
	path           string
	err            error
}

func (b *binary) get(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(b.env); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(RepoRoot(), p)
		}
		return p
	}
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", b.name+"-e2e-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, b.name)
		cmd := exec.Command("go", "build", "-o", b.path, b.pkg)
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// remove deletes the temp dir of a binary built by get (none when taken
// from the environment).
func (b *binary) remove() {
	if b.path != "" {
		_ = os.RemoveAll(filepath.Dir(b.path))
	}
}

var (
	avsdBinary    = &binary{env: "AVSD", pkg: "./cmd/avsd", name: "avsd"}
	sidecarBinary = &binary{env: "AVS_SIDECAR", pkg: "./cmd/avs-sidecar", name: "avs-sidecar"}
)

// Main is TestMain for a package that runs localnet: it runs the tests, then
// removes the binaries built for them (about 200 MB a run).
func Main(m *testing.M) {
	code := m.Run()
	avsdBinary.remove()
	sidecarBinary.remove()
	os.Exit(code)
}

// Binary returns the avsd binary to test ($AVSD, or built once).
func Binary(t testing.TB) string { return avsdBinary.get(t) }

// PreviousRelease is the release before this tree's: the upgrade test starts
// a chain on it (scripts/build-release.sh, app.UpgradeName).
const PreviousRelease = "v0.1.0"

var previousBinary struct {
	once sync.Once
	path string
	err  error
}

// PreviousBinary returns avsd of PreviousRelease: $AVSD_PREVIOUS, or built
// once by scripts/build-release.sh (kept in build/ for the next run).
func PreviousBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AVSD_PREVIOUS"); p != "" {
		return p
	}
	previousBinary.once.Do(func() {
		cmd := exec.Command(filepath.Join(RepoRoot(), "scripts", "build-release.sh"), PreviousRelease)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			previousBinary.err = fmt.Errorf("scripts/build-release.sh %s: %v\n%s", PreviousRelease, err, stderr.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		previousBinary.path = lines[len(lines)-1]
	})
	if previousBinary.err != nil {
		t.Fatal(previousBinary.err)
	}
	return previousBinary.path
}

var wasmdBinary struct {
	once sync.Once
	path string
	err  error
}

// WasmdBinary returns the wasmd binary the IBC-client tests run as another
// chain: $WASMD, or build/wasmd built once by scripts/build-wasmd.sh at the
// version go.mod pins (kept in build/ for the next run; 15-30 s after `make build`,
// about 5 minutes cold).
func WasmdBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("WASMD"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(RepoRoot(), p)
		}
		return p
	}
	wasmdBinary.once.Do(func() {
		out := filepath.Join(RepoRoot(), "build", "wasmd")
		cmd := exec.Command(filepath.Join(RepoRoot(), "scripts", "build-wasmd.sh"), out)
		if b, err := cmd.CombinedOutput(); err != nil {
			wasmdBinary.err = fmt.Errorf("scripts/build-wasmd.sh: %v\n%s", err, b)
			return
		}
		wasmdBinary.path = out
	})
	if wasmdBinary.err != nil {
		t.Fatal(wasmdBinary.err)
	}
	return wasmdBinary.path
}

// SidecarBinary returns the avs-sidecar binary to test ($AVS_SIDECAR, or built once).
func SidecarBinary(t testing.TB) string { return sidecarBinary.get(t) }

// FreePorts returns n distinct TCP ports free on 127.0.0.1 right now.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
