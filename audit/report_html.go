package audit

import (
	"bytes"
	_ "embed" // the HTML template
	"html/template"
)

// reportHTML is the template of report.html: one self-contained file (inline CSS and SVG, no
// script, no request; a Content-Security-Policy that forbids anything else), the verdict first.
//
//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report.html").Parse(reportHTML))

// HTML writes report.html. html/template escapes every value for its context; the values
// passed through safetext first (reportView), so no control character reaches the page either.
func (d *Document) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, d.view()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
