// Command probe is a test component for the executor's determinism tests: it
// writes, as JSON, the AVS_* environment, one config key, what time.Now
// reads and 32 bytes from crypto/rand.
//
// The executor tests build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"time"
)

func main() {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var buf [32]byte
	if _, err := rand.Read(buf[:]); err != nil {
		os.Stderr.WriteString("rand: " + err.Error() + "\n")
		os.Exit(2)
	}
	_, statErr := os.Stat("/")
	out := map[string]any{
		"env":      env,
		"now":      time.Now().UTC().Format(time.RFC3339Nano),
		"rand":     hex.EncodeToString(buf[:]),
		"args":     os.Args,
		"fs_error": statErr != nil,
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(3)
	}
}
