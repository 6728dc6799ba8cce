package audit

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium to run: $CHROMIUM, else the Debian package's binary.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserLog gathers, from the tab's events, what the test forbids: console errors, uncaught
// exceptions, log entries of level error (where Chromium reports a Content-Security-Policy
// violation) and every network request.
type browserLog struct {
	mu       sync.Mutex
	errors   []string
	requests []string
}

func (b *browserLog) event(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert || e.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value))
			}
			b.errors = append(b.errors, fmt.Sprintf("console.%s %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			b.errors = append(b.errors, fmt.Sprintf("log %s %s: %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	}
}

// openBrowser starts a headless Chromium with a tab whose events bl records.
func openBrowser(t *testing.T, exe string) (context.Context, *browserLog) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.Headless, chromedp.WindowSize(1200, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox (CI runs as root)
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	bl := &browserLog{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(bl.event))
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx, bl
}

// The HTML report, opened from a file:// URL in headless Chromium, renders without a console
// error, an exception or a CSP violation, and makes no request beyond the load of the page
// itself; the map (an SVG with the zone polygons, the tracks and the leak points), the verdict
// and every finding are in the DOM. The screenshot goes to $REPORT_SCREENSHOT_DIR when set
// (to look at), else to the test's temporary folder.
func TestReportHTMLInChromium(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("no Chromium (Debian package chromium; .ci/run installs it): the browser test of report.html does not run")
	}
	shots := os.Getenv("REPORT_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	dir := t.TempDir()
	// The control: a page that breaks its own CSP with an image from the network is caught, by
	// the request or by the violation Chromium logs, so the checks below can fail.
	t.Run("control", func(t *testing.T) {
		page := filepath.Join(dir, "control.html")
		os.WriteFile(page, []byte(`<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'">`+
			`</head><body><img src="http://192.0.2.1/x.png"><script>console.error("boom")</script></body></html>`), 0o600)
		ctx, bl := openBrowser(t, exe)
		if err := chromedp.Do(ctx, chromedp.Navigate((&url.URL{Scheme: "file", Path: page}).String())); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		bl.mu.Lock()
		defer bl.mu.Unlock()
		if len(bl.errors) == 0 {
			t.Fatalf("no error seen from a page that breaks its CSP (requests %v)", bl.requests)
		}
		t.Logf("control: %d errors seen, the first %q", len(bl.errors), bl.errors[0])
	})
	for _, tc := range []struct {
		name string
		doc  *Document
	}{
		{"demo", demoDocument(t, 0, ReportMeta{Case: "K-2026/0001", Examiner: "Insp. <Test>", Commit: "test"})},
		{"lab", labDocument(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			html, err := tc.doc.HTML()
			if err != nil {
				t.Fatal(err)
			}
			page := filepath.Join(dir, tc.name+".html")
			if err := os.WriteFile(page, html, 0o600); err != nil {
				t.Fatal(err)
			}
			pageURL := (&url.URL{Scheme: "file", Path: page}).String()

			ctx, bl := openBrowser(t, exe)
			if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
				t.Fatalf("open %s: %v", pageURL, err)
			}
			check := func(js string) any {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
				if err != nil {
					t.Fatalf("%s: %v", js, err)
				}
				return v
			}
			zones := check(`document.querySelectorAll("svg#map g#zones path.zone").length`)
			points := check(`document.querySelectorAll("svg#map g#points .pt").length`)
			tracks := check(`document.querySelectorAll("svg#map g#tracks polyline").length`)
			scale := check(`document.querySelector("svg#map g#scale text").textContent`)
			north := check(`document.querySelector("svg#map g#north text").textContent`)
			result := check(`document.querySelector("#verdict .result").textContent`)
			first := check(`document.body.firstElementChild.nextElementSibling.id`)
			// The style sheet applied (its hash is the one the CSP allows): the verdict's border.
			if w := check(`getComputedStyle(document.getElementById("verdict")).borderTopWidth`); w != "2px" {
				t.Errorf("the style sheet was not applied: verdict border %v", w)
			}
			if zones.(float64) < 1 || points.(float64) < 1 || scale == "" || north != "N" {
				t.Errorf("map: %v zone polygons, %v points, %v tracks, scale %q, north %q", zones, points, tracks, scale, north)
			}
			if tc.name == "demo" && tracks.(float64) < 1 {
				t.Error("the demo's flown track is not on the map")
			}
			if result != tc.doc.Verdict.Result || first != "verdict" {
				t.Errorf("verdict %q (want %q), first section %q", result, tc.doc.Verdict.Result, first)
			}
			for _, f := range tc.doc.Findings {
				got := check(fmt.Sprintf(`(function(){const e=document.getElementById(%q); return e ? e.querySelector("h3").textContent : ""})()`, f.ID))
				if !strings.HasPrefix(fmt.Sprint(got), f.ID+" ") || !strings.Contains(fmt.Sprint(got), f.Kind) {
					t.Errorf("finding %s: %q in the DOM", f.ID, got)
				}
			}
			if n := check(`document.querySelectorAll("#findings section.finding").length`); int(n.(float64)) != len(tc.doc.Findings) {
				t.Errorf("%v findings in the DOM, %d in the report", n, len(tc.doc.Findings))
			}
			if n := check(`document.scripts.length`); n.(float64) != 0 {
				t.Errorf("%v scripts in the page", n)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(shots, "report-"+tc.name+".png")
			if err := os.WriteFile(shot, png, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s (%d bytes); %v zones, %v points, %v tracks drawn", shot, len(png), zones, points, tracks)

			bl.mu.Lock()
			defer bl.mu.Unlock()
			for _, e := range bl.errors {
				t.Errorf("browser: %s", e)
			}
			for _, r := range bl.requests {
				if r != pageURL {
					t.Errorf("request to %s", r)
				}
			}
			if len(bl.requests) != 1 {
				t.Errorf("requests %v, want the page's own load only", bl.requests)
			}
		})
	}
}
