// Command testoutput prints a `go test -json` stream (stdin) for a person.
// By default it prints what `go test` prints without -v: each package's
// result, build errors, and the whole output of a test that fails or skips.
// With -v it prints everything, as `go test -v` does. The Makefile's test
// targets tee the raw stream to build/ for scripts/check-skips.sh and pipe
// it here, so the screen keeps the usual output while CI counts skips.
// Only the standard library is imported.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is a test2json event (go doc test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	verbose := flag.Bool("v", false, "print every line of output, as go test -v")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "testoutput:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, verbose bool) error {
	held := map[[2]string][]string{} // a running test's output, by package and test
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			// not an event: go test's own messages pass through
			if _, err := fmt.Fprintln(out, sc.Text()); err != nil {
				return err
			}
			continue
		}
		var lines []string
		key := [2]string{e.Package, e.Test}
		switch {
		case verbose || e.Action == "build-output":
			if e.Action == "output" || e.Action == "build-output" {
				lines = []string{e.Output}
			}
		case e.Test == "":
			if e.Action == "output" && e.Output != "PASS\n" {
				lines = []string{e.Output}
			}
		case e.Action == "output":
			if !progress(e.Output) {
				held[key] = append(held[key], e.Output)
			}
		case e.Action == "fail", e.Action == "skip":
			lines = held[key]
			delete(held, key)
		case e.Action == "pass":
			delete(held, key)
		}
		for _, l := range lines {
			if _, err := fmt.Fprint(out, l); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// progress reports a line go test -v prints as tests start, pause and
// resume: noise when only failures and skips are shown.
func progress(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}
