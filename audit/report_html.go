package audit

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the HTML template
	"encoding/base64"
	"html/template"
	"strings"
)

// reportHTML is the template of report.html: one self-contained file (inline CSS and SVG, no
// script, no request; a Content-Security-Policy that forbids anything else, and allows only the
// one style sheet of the template by its hash), the verdict first.
//
//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report.html").Parse(reportHTML))

// styleHash is the CSP source of the template's <style> element: the base64 SHA-256 of its
// text (CSP Level 3, "hash-source"). The element holds no template action, so the page carries
// exactly this text, and no other style (no style attribute) is allowed.
var styleHash = func() string {
	_, css, _ := strings.Cut(reportHTML, "<style>")
	css, _, _ = strings.Cut(css, "</style>")
	sum := sha256.Sum256([]byte(css))
	return base64.StdEncoding.EncodeToString(sum[:])
}()

// htmlPage is what the template is executed with.
type htmlPage struct {
	*reportView
	StyleHash string
}

// HTML writes report.html. html/template escapes every value for its context; the values
// passed through safetext first (reportView), so no control character reaches the page either.
func (d *Document) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, htmlPage{d.view(), styleHash}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
