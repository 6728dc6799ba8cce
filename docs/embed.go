// Package docs holds the documentation files that programs and tests read: the JSON Schema of
// report.json (report-schema.md describes it field by field).
package docs

import _ "embed" // the schema

// ReportSchema is report.schema.json, the JSON Schema (draft 2020-12) of the report.json that
// `droneaudit audit --report-dir` writes.
//
//go:embed report.schema.json
var ReportSchema []byte
