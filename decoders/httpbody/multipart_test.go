package httpbody_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/httpbody"
)

// upload writes a multipart/form-data body with mime/multipart, as net/http clients do.
func upload(t testing.TB, fields [][2]string, files map[string][]byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"flight", "photo"} {
		if data, ok := files[name]; ok {
			fw, err := w.CreateFormFile(name, name+".bin")
			if err != nil {
				t.Fatal(err)
			}
			fw.Write(data)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestSplitFormData(t *testing.T) {
	file := append([]byte("\r\n--not-the-boundary\r\n"), bytes.Repeat([]byte{0, 1, 2, '\r', '\n', '-'}, 1000)...)
	ct, body := upload(t, [][2]string{{"sn", "1581F5BKD223Q00A0D2Y"}, {"note", "line1\r\nline2"}}, map[string][]byte{"flight": file})
	m, err := httpbody.SplitMultipart(ct, body, httpbody.PartLimits{})
	if err != nil || !m.Closed || m.MediaType != "multipart/form-data" || len(m.Parts) != 3 || len(m.Notes) != 0 {
		t.Fatalf("err %v closed %v parts %d notes %+v", err, m.Closed, len(m.Parts), m.Notes)
	}
	want := []struct{ name, filename, ct, data string }{
		{"sn", "", "", "1581F5BKD223Q00A0D2Y"}, {"note", "", "", "line1\r\nline2"}, {"flight", "flight.bin", "application/octet-stream", string(file)},
	}
	for i, w := range want {
		p := m.Parts[i]
		if p.Index != i || p.Name != w.name || p.Filename != w.filename || p.ContentType != w.ct || string(p.Data) != w.data {
			t.Errorf("part %d: %q %q %q %d bytes", i, p.Name, p.Filename, p.ContentType, len(p.Data))
		}
		// The offsets point at the part's bytes in the body.
		if !bytes.Equal(body[p.Offset:p.Offset+int64(len(p.Data))], p.Data) || !bytes.HasPrefix(body[p.HeaderOffset:], []byte("Content-Disposition")) {
			t.Errorf("part %d offsets %d %d wrong", i, p.HeaderOffset, p.Offset)
		}
	}
}

func TestSplitMixed(t *testing.T) {
	// multipart/mixed with a preamble, LF line ends, a part without headers, transfer encodings,
	// transport padding after a delimiter, and a filename* parameter (RFC 7578 §4.2, RFC 5987).
	body := "preamble\n--XyZ  \nContent-Type: text/plain\n\nfirst\n--XyZ\n\nno headers\n" +
		"--XyZ\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename*=UTF-8''gr%C3%BC%C3%9Fe.json\n\n" +
		base64.StdEncoding.EncodeToString([]byte(`{"lat":47.1}`))[:8] + "\n" + base64.StdEncoding.EncodeToString([]byte(`{"lat":47.1}`))[8:] + "\n" +
		"--XyZ\nContent-Transfer-Encoding: quoted-printable\n\nlat=3D47.1=\n lon\n--XyZ--\nepilogue"
	m, err := httpbody.SplitMultipart(`multipart/mixed; boundary="XyZ"`, []byte(body), httpbody.PartLimits{})
	if err != nil || !m.Closed || len(m.Parts) != 4 {
		t.Fatalf("err %v closed %v parts %d", err, m.Closed, len(m.Parts))
	}
	got := []string{string(m.Parts[0].Data), string(m.Parts[1].Data), string(m.Parts[2].Data), string(m.Parts[3].Data)}
	want := []string{"first", "no headers", `{"lat":47.1}`, "lat=47.1 lon"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d: %q, want %q", i, got[i], want[i])
		}
	}
	if m.Parts[2].Filename != "grüße.json" || m.Parts[2].TransferEncoding != "base64" {
		t.Errorf("part 2: %q %q", m.Parts[2].Filename, m.Parts[2].TransferEncoding)
	}
	if len(m.Notes) != 1 || m.Notes[0].Code != decoders.CodeJunk || m.Notes[0].Offset != 0 {
		t.Errorf("notes %+v", m.Notes)
	}
}

func TestSplitDamage(t *testing.T) {
	ct, body := upload(t, [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}}, nil)
	// Cut inside the last part: the parts before stand, the last is marked.
	cut := body[:bytes.Index(body, []byte("\r\n\r\n3"))+5]
	m, err := httpbody.SplitMultipart(ct, cut, httpbody.PartLimits{})
	if err != nil || m.Closed || len(m.Parts) != 3 || !m.Parts[2].Cut || string(m.Parts[2].Data) != "3" || codes(m.Notes) != "truncated" {
		t.Errorf("cut: err %v closed %v parts %+v notes %+v", err, m.Closed, m.Parts, m.Notes)
	}
	// The part bound.
	m, _ = httpbody.SplitMultipart(ct, body, httpbody.PartLimits{MaxParts: 2})
	if len(m.Parts) != 2 || codes(m.Notes) != "too-many-entries" {
		t.Errorf("bound: %d parts, notes %+v", len(m.Parts), m.Notes)
	}
	// A header block longer than its bound is reported; the next part is still read.
	long := strings.Replace(string(body), "Content-Disposition: form-data; name=\"a\"", "X-Pad: "+strings.Repeat("p", 300)+"\r\nContent-Disposition: form-data; name=\"a\"", 1)
	m, _ = httpbody.SplitMultipart(ct, []byte(long), httpbody.PartLimits{MaxPartHeaders: 200})
	if len(m.Parts) != 3 || m.Parts[0].Name != "" || m.Parts[1].Name != "b" || codes(m.Notes) != "malformed" {
		t.Errorf("long header: %+v %+v", m.Parts, m.Notes)
	}
	// Not multipart, no boundary, no delimiter.
	for _, c := range []struct{ ct, body string }{{"text/plain", "x"}, {"multipart/form-data", "x"}, {"multipart/form-data; boundary=q", "no delimiter"}} {
		if _, err := httpbody.SplitMultipart(c.ct, []byte(c.body), httpbody.PartLimits{}); err == nil {
			t.Errorf("%q accepted", c.ct)
		}
	}
	if !httpbody.IsMultipart(ct) || httpbody.IsMultipart("application/json") {
		t.Error("IsMultipart")
	}
}

func TestParseForm(t *testing.T) {
	body := "lat=22.907809968&lng=113.703482143&&q=%7B%22a%22%3A1%7D&bad=%zz&name=a+b&flag"
	fields, notes := httpbody.ParseForm([]byte(body), 0)
	want := []httpbody.Field{{"lat", "22.907809968", 0, false}, {"lng", "113.703482143", 17, false}, {"q", `{"a":1}`, 36, false},
		{"bad", "%zz", 56, true}, {"name", "a b", 64, false}, {"flag", "", 73, false}}
	if len(fields) != len(want) {
		t.Fatalf("%+v", fields)
	}
	for i := range want {
		if fields[i] != want[i] {
			t.Errorf("field %d: %+v, want %+v", i, fields[i], want[i])
		}
	}
	if len(notes) != 1 || notes[0].Offset != 56 {
		t.Errorf("notes %+v", notes)
	}
	if f, n := httpbody.ParseForm([]byte(strings.Repeat("a=1&", 100)), 10); len(f) != 10 || len(n) != 1 || n[0].Code != decoders.CodeTooManyEntries {
		t.Errorf("bound: %d fields %+v", len(f), n)
	}
	if !httpbody.IsForm("application/x-www-form-urlencoded; charset=UTF-8") || httpbody.IsForm("text/plain") {
		t.Error("IsForm")
	}
}

func TestFindEncoded(t *testing.T) {
	secret := `{"latitude":22.907809968,"longitude":113.703482143}`
	b64 := base64.StdEncoding.EncodeToString([]byte(secret))
	b64url := base64.RawURLEncoding.EncodeToString([]byte(secret + "??>>"))
	hx := hex.EncodeToString([]byte("serial 1581F5BKD223Q00A0D2Y"))
	pct := url.QueryEscape(secret)
	noise := base64.StdEncoding.EncodeToString([]byte{0x80, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f})
	data := "token=" + b64 + "&u=" + b64url + " id:" + hx + " q=" + pct + " n=" + noise + " short=" + base64.StdEncoding.EncodeToString([]byte("hi"))
	vals, notes := httpbody.FindEncoded([]byte(data), httpbody.FindLimits{})
	if len(notes) != 0 || len(vals) != 4 {
		t.Fatalf("%d values %+v notes %+v", len(vals), vals, notes)
	}
	want := []struct{ kind, enc, dec string }{
		{httpbody.KindBase64, b64, secret}, {httpbody.KindBase64URL, b64url, secret + "??>>"},
		{httpbody.KindHex, hx, "serial 1581F5BKD223Q00A0D2Y"}, {httpbody.KindPercent, pct, secret},
	}
	for i, w := range want {
		v := vals[i]
		if v.Kind != w.kind || string(v.Decoded) != w.dec || data[v.Offset:v.Offset+int64(v.Len)] != w.enc {
			t.Errorf("value %d: %s %q at %d+%d", i, v.Kind, v.Decoded, v.Offset, v.Len)
		}
	}
	// Bounds: values and decoded bytes.
	many := strings.Repeat(b64+" ", 50)
	if vals, notes := httpbody.FindEncoded([]byte(many), httpbody.FindLimits{MaxValues: 5}); len(vals) != 5 || len(notes) != 1 {
		t.Errorf("value bound: %d %+v", len(vals), notes)
	}
	if vals, notes := httpbody.FindEncoded([]byte(many), httpbody.FindLimits{MaxDecoded: 3 * len(secret)}); len(vals) != 3 || len(notes) != 1 {
		t.Errorf("byte bound: %d %+v", len(vals), notes)
	}
}

// FuzzMultipart splits arbitrary bodies: no panic, every part's offsets lie inside the body,
// and the part and note bounds hold.
func FuzzMultipart(f *testing.F) {
	ct, body := upload(f, [][2]string{{"sn", "1581F5BKD223Q00A0D2Y"}}, map[string][]byte{"photo": {0xff, 0xd8, 0xff, 0xd9}})
	_, boundary, _ := strings.Cut(ct, "boundary=")
	f.Add(boundary, body)
	f.Add(boundary, body[:len(body)/2])
	f.Add("XyZ", []byte("--XyZ\nContent-Transfer-Encoding: base64\n\nAAAA\n--XyZ\nContent-Transfer-Encoding: quoted-printable\n\n=41=\n--XyZ--"))
	f.Add("b", []byte("--b\r\n\r\n--b\r\n--b--"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		m, err := httpbody.SplitMultipart("multipart/form-data; boundary="+quote(boundary), body, httpbody.PartLimits{MaxParts: 64, MaxPartHeaders: 1024})
		if err != nil {
			return
		}
		if len(m.Parts) > 64 {
			t.Fatalf("%d parts", len(m.Parts))
		}
		for _, p := range m.Parts {
			if p.Offset < p.HeaderOffset || p.Offset > int64(len(body)) || (p.TransferEncoding == "" && p.Offset+int64(len(p.Data)) > int64(len(body))) {
				t.Fatalf("part %d at %d/%d with %d bytes in %d", p.Index, p.HeaderOffset, p.Offset, len(p.Data), len(body))
			}
			if p.TransferEncoding == "" && !bytes.Equal(body[p.Offset:p.Offset+int64(len(p.Data))], p.Data) {
				t.Fatalf("part %d data is not the body's bytes at its offset", p.Index)
			}
		}
		httpbody.ParseForm(body, 64)
		httpbody.FindEncoded(body, httpbody.FindLimits{MaxValues: 16, MaxDecoded: 4096})
	})
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// codes lists the codes of notes, comma-separated.
func codes(notes []decoders.Note) string {
	var s []string
	for _, n := range notes {
		s = append(s, string(n.Code))
	}
	return strings.Join(s, ",")
}

// TestOpen: a gzip-coded form and a multipart body go through one call.
func TestOpen(t *testing.T) {
	// The base64 text holds a "+", which the form escapes: only the decoded field has it whole.
	secret := []byte(`{"latitude":22.907809968}>>>?`)
	form := "lat=22.9&blob=" + url.QueryEscape(base64.StdEncoding.EncodeToString(secret))
	if !strings.Contains(form, "%2B") {
		t.Fatalf("fixture has no escaped base64 characters: %s", form)
	}
	o := httpbody.Open("application/x-www-form-urlencoded", "gzip", encode(t, "gzip", []byte(form)), httpbody.Options{})
	var found bool
	for _, v := range o.Values {
		found = found || v.In == "field 1" && v.Kind == httpbody.KindBase64 && v.Offset == 0 && string(v.Decoded) == string(secret)
	}
	if !o.Complete || len(o.Fields) != 2 || o.Fields[1].Name != "blob" || !found {
		t.Errorf("form: %+v", o)
	}
	ct, body := upload(t, [][2]string{{"sn", "x"}}, nil)
	o = httpbody.Open(ct, "", body, httpbody.Options{})
	if o.Multipart == nil || len(o.Multipart.Parts) != 1 || len(o.Notes) != 0 {
		t.Errorf("multipart: %+v", o)
	}
	o = httpbody.Open("multipart/form-data", "br", []byte("not brotli"), httpbody.Options{})
	if o.Complete || o.Multipart != nil || len(o.Notes) != 2 {
		t.Errorf("broken: %+v", o.Notes)
	}
}
