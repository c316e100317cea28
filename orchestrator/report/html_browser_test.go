package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/orchestrator"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// richResult is a run that fills every chart: a ramp that turns into 429s,
// two endpoints, two regions and a workflow.
func richResult() *orchestrator.Result {
	ivs := make([]synthInterval, 12)
	for i := range ivs {
		reqs := int64(10 + 9*i)
		ivs[i] = synthInterval{reqs: reqs, lat: time.Duration(8+i*i) * time.Millisecond, s429: max(0, reqs-60)}
	}
	ivs[0].lat = 400 * time.Millisecond
	res := synthRun(ramp(10, 110, 12*time.Second), ivs)
	eu := regionSnapshot(300, 6)
	res.Total.Merge(eu)
	res.Regions = append(res.Regions, orchestrator.RegionResult{Name: "eu-west-1", Generators: 2, Snapshot: eu})
	res.Regions[0].Name = "us-east-1"
	return res
}

// browse runs headless Chromium on page and returns its DOM dump and its
// log; the screenshot goes to png.
func browse(t *testing.T, page, png string) (dom, log string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: install it with `apt-get update && apt-get install -y chromium` (.ci/run does)", chromiumPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		// Any host lookup fails, so a fetch would show up as a load error.
		"--host-resolver-rules=MAP * ~NOTFOUND",
		"--window-size=1280,"+windowHeight(), "--screenshot="+png, "--dump-dom", "file://"+page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// consoleErrors are the log lines that report a script error or a failed
// load.
func consoleErrors(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "Uncaught") || strings.Contains(l, "Failed to load resource") ||
			strings.Contains(l, "net::ERR_") || (strings.Contains(l, "CONSOLE") && strings.Contains(l, "rror")) {
			out = append(out, l)
		}
	}
	return out
}

func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, Build(richResult())); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Statically: nothing that would load from elsewhere, and a URL only
	// ever in text, never inside a tag.
	if m := regexp.MustCompile(`(?i)(\ssrc=|\shref=|url\(|@import|<link|<iframe|<img)`).FindString(html); m != "" {
		t.Errorf("page references an external resource: %q", m)
	}
	for _, loc := range regexp.MustCompile(`https?://`).FindAllStringIndex(html, -1) {
		if strings.LastIndex(html[:loc[0]], "<") > strings.LastIndex(html[:loc[0]], ">") {
			t.Errorf("URL inside a tag at byte %d: %q", loc[0], html[max(0, loc[0]-40):loc[1]+20])
		}
	}

	png := filepath.Join(dir, "report.png")
	dom, log := browse(t, page, png)
	for _, want := range []string{`id="summary"`, `id="endpoints"`, "GET /api", "GET /products", "Throttling (429)", "<svg", "eu-west-1"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if errs := consoleErrors(log); len(errs) > 0 {
		t.Errorf("console errors or failed loads:\n%s", strings.Join(errs, "\n"))
	}
	fi, err := os.Stat(png)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	head := make([]byte, 8)
	if f, err := os.Open(png); err == nil {
		_, _ = f.Read(head)
		f.Close()
	}
	if string(head) != "\x89PNG\r\n\x1a\n" || fi.Size() < 20_000 {
		t.Errorf("screenshot is not a PNG of some size: header %q, %d bytes", head, fi.Size())
	}
	if out := os.Getenv("STAMPEDE_SCREENSHOT"); out != "" {
		b, _ := os.ReadFile(png)
		_ = os.WriteFile(out, b, 0o644)
	}
}

// TestChromiumReportsConsoleErrors checks that the log scan above can
// fail: a page with a script error and a fetch must be caught.
func TestChromiumReportsConsoleErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	page := filepath.Join(dir, "broken.html")
	src := `<!DOCTYPE html><html><body><p>x</p><script>fetch("http://127.0.0.1:9/x"); undefinedFunction();</script></body></html>`
	if err := os.WriteFile(page, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, log := browse(t, page, filepath.Join(dir, "broken.png"))
	errs := consoleErrors(log)
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "undefinedFunction") {
		t.Errorf("the script error was not caught in the log:\n%s", log)
	}
}

// windowHeight is the screenshot's height in pixels: 2000, or more through
// STAMPEDE_SCREENSHOT_HEIGHT to look at the whole page.
func windowHeight() string {
	if h := os.Getenv("STAMPEDE_SCREENSHOT_HEIGHT"); h != "" {
		return h
	}
	return "2000"
}
