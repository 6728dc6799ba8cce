package requests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"droneaudit/internal/jsonindent"
	"droneaudit/internal/safetext"
)

// WriteJSON writes the result as one JSON document: the rows and the notes, indented, the bytes
// json.Encoder with SetIndent("", "  ") writes for the Result.
//
// The rows are marshalled and written one at a time, so the listing never exists twice in memory,
// and indented by jsonindent: json.Indent's validating scanner is slower than the marshalling.
func (r *Result) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	bw.WriteString("{\n  \"requests\": ")
	switch {
	case r.Rows == nil:
		bw.WriteString("null")
	case len(r.Rows) == 0:
		bw.WriteString("[]")
	default:
		bw.WriteString("[\n")
		for i := range r.Rows {
			b, err := json.Marshal(&r.Rows[i])
			if err != nil {
				return err
			}
			line = append(jsonindent.AppendPrefix(append(line[:0], "    "...), b, "    ", "  "), ",\n"...)
			if i == len(r.Rows)-1 {
				line = append(line[:len(line)-2], '\n')
			}
			bw.Write(line)
		}
		bw.WriteString("  ]")
	}
	notes, err := json.Marshal(r.Notes)
	if err != nil {
		return err
	}
	bw.WriteString(",\n  \"notes\": ")
	bw.Write(jsonindent.AppendPrefix(line[:0], notes, "  ", "  "))
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// WriteText writes one line per row (with the input file and frame where it was), then the SHA-256
// of each input file the rows name (as sha256sum prints them), then the notes (TLS sessions not
// decrypted, with the reason). Every value read from the traffic passes through safetext.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tINPUT:FRAME\tTIME\tSERVER\tNAME\tPROTO\tMETHOD\tURL\tSTATUS\tREQ BYTES\tREQ SHA-256\tRESP BYTES\tRESP SHA-256\tCONTENT TYPE\tDECODED BODY")
	for _, row := range r.Rows {
		status, rsize, rsum, ctype := "-", "-", "-", row.Request.ContentType
		if row.Response != nil {
			status = strconv.Itoa(row.Status)
			rsize, rsum = bodySize(*row.Response), short(row.Response.SHA256)
			ctype = row.Response.ContentType
		}
		proto := row.Protocol
		if row.TLS {
			proto += "/tls"
		}
		fmt.Fprintf(tw, "%s\t%s:%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safetext.String(row.ID),
			safetext.String(row.Input), row.Frame, row.Time.Format("2006-01-02T15:04:05.000Z"), row.Server, dash(safetext.String(row.Name)), proto,
			safetext.String(row.Method), safetext.String(row.URL), status, bodySize(row.Request), short(row.Request.SHA256),
			rsize, rsum, dash(safetext.String(ctype)), safetext.String(decoded(row)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d requests.\n", len(r.Rows))
	seen := map[string]bool{}
	for _, row := range r.Rows {
		if !seen[row.Input] && row.InputSHA256 != "" {
			if len(seen) == 0 {
				fmt.Fprintln(w, "\nInputs (SHA-256):")
			}
			seen[row.Input] = true
			fmt.Fprintf(w, "  %s  %s\n", row.InputSHA256, safetext.String(row.Input))
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s %s: %s\n", n.Severity, n.Code, safetext.String(n.Line()))
		}
	}
	return nil
}

// decoded is the decoded-body summaries of a row: the request's, then the response's after
// "resp:", or "-".
func decoded(row Row) string {
	s := row.Request.Summary
	if row.Response != nil && row.Response.Summary != "" {
		if s != "" {
			s += "; "
		}
		s += "resp: " + row.Response.Summary
	}
	return dash(s)
}

// bodySize is the size, marked "+" when the body was cut.
func bodySize(b Body) string {
	s := strconv.FormatInt(b.Size, 10)
	if !b.Complete {
		s += "+"
	}
	return s
}

// short is the first 16 hex digits of a hash (the JSON form has all of it).
func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return dash(h)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
