package boundxml

import (
	"encoding/xml"
	"strings"
	"testing"
)

var lim = Limits{Tokens: 64, Depth: 4, Text: 16}

func TestWalk(t *testing.T) {
	var ends []string
	p := Walk([]byte(`<?xml version="1.0"?><a><b> x </b><c><d>y</d></c></a>`), lim, Visitor{
		End: func(path []string, text string) { ends = append(ends, strings.Join(path, "/")+"="+text) }})
	if p != nil {
		t.Fatal(p)
	}
	if got := strings.Join(ends, " "); got != "a/b=x a/c/d=y a/c= a=" {
		t.Errorf("ends %q", got)
	}
}

func TestWalkBounds(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"tokens", "<a>" + strings.Repeat("<b/>", 64) + "</a>", "more than 64 XML tokens"},
		{"depth", "<a><b><c><d><e/></d></c></b></a>", "deeper than 4"},
		{"text", "<a>" + strings.Repeat("x", 17) + "</a>", "longer than 16"},
		{"cut", "<a><b>", "unexpected EOF"},
		{"empty", "", "no root element"},
		{"two roots", "<a/><b/>", "a second root"},
		{"mismatch", "<a></b>", "syntax error"},
	} {
		if p := Walk([]byte(c.doc), lim, Visitor{}); p == nil || !strings.Contains(p.Reason, c.want) {
			t.Errorf("%s: %+v, want %q", c.name, p, c.want)
		}
	}
	stop := Walk([]byte("<a><b/></a>"), lim, Visitor{Start: func(path []string, e xml.StartElement) string {
		if e.Name.Local == "b" {
			return "no b here"
		}
		return ""
	}})
	if stop == nil || stop.Reason != "no b here" {
		t.Errorf("stop: %+v", stop)
	}
}

func FuzzWalk(f *testing.F) {
	f.Add([]byte(`<a><b> x </b><c><d>y</d></c></a>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		Walk(b, lim, Visitor{End: func(path []string, text string) {
			if len(path) > lim.Depth || len(text) > lim.Text {
				t.Fatalf("path %q, text of %d bytes", path, len(text))
			}
		}})
	})
}
