package chaos

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"testing"
)

var tableFile = flag.String("chaos.table", "", "also write the chaos table (Markdown) to this file")

// results is the table every scenario adds its row to; TestMain prints it.
var results Table

// token is the secret the plans read from the environment (CHAOS_TOKEN):
// the target checks that it arrives, and the secret checks that it is
// nowhere stampede writes.
var token = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "chaos-tok-" + hex.EncodeToString(b[:])
}()

// envToken is the variable that holds token.
const envToken = "CHAOS_TOKEN"

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if len(results.Rows()) > 0 {
		var b bytes.Buffer
		_ = results.WriteMarkdown(&b)
		fmt.Printf("\nchaos: %d scenarios\n\n%s\n", len(results.Rows()), b.String())
		if *tableFile != "" {
			if err := os.WriteFile(*tableFile, b.Bytes(), 0o644); err != nil {
				fmt.Fprintf(os.Stderr, "chaos: write %s: %v\n", *tableFile, err)
				code = 1
			}
		}
		if results.Failed() && code == 0 {
			code = 1
		}
	}
	cleanupBuilds()
	os.Exit(code)
}

// row records r in the table when the test ends: it passes unless the
// test failed (the test's log says why).
func row(t *testing.T, r *Row) {
	t.Cleanup(func() {
		r.Pass = !t.Failed()
		results.Add(*r)
	})
}
