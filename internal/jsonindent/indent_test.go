package jsonindent

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// oracle is what encoding/json writes for the same input.
func oracle(t testing.TB, src []byte) []byte {
	var want bytes.Buffer
	if err := json.Indent(&want, src, "", "  "); err != nil {
		t.Fatalf("json.Indent: %v", err)
	}
	return want.Bytes()
}

// randomValue builds a nested value with the strings that trouble a scanner: escaped quotes,
// backslashes before quotes, structural bytes inside strings, HTML characters, control bytes and
// invalid UTF-8.
func randomValue(r *rand.Rand, depth int) any {
	pick := r.IntN(9)
	if depth > 4 {
		pick = r.IntN(5)
	}
	switch pick {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.NormFloat64() * 1e6
	case 3:
		return r.Int64() - r.Int64()
	case 4:
		return randomString(r)
	case 5, 6:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[randomString(r)] = randomValue(r, depth+1)
		}
		return m
	}
}

func randomString(r *rand.Rand) string {
	alphabet := []string{`"`, `\`, `\"`, `{`, `}`, `[`, `]`, `,`, `:`, `<`, `&`, "\x00", "\n", "\xff", "é", "a", " "}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func TestAppendMatchesIndent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		src, err := json.Marshal(randomValue(r, 0))
		if err != nil {
			t.Fatal(err)
		}
		got := Append(nil, src, "  ")
		if want := oracle(t, src); !bytes.Equal(got, want) {
			t.Fatalf("value %d: %s\ngot  %q\nwant %q", i, src, got, want)
		}
	}
}

func TestAppendPrefixMatchesIndent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 5000 {
		src, err := json.Marshal(randomValue(r, 0))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, "    ", "\t"); err != nil {
			t.Fatal(err)
		}
		if got := AppendPrefix(nil, src, "    ", "\t"); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("value %d: %s\ngot  %q\nwant %q", i, src, got, want.Bytes())
		}
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	got := Append([]byte("x"), []byte(`{"a":[1,{}],"b":[]}`), "\t")
	want := "x{\n\t\"a\": [\n\t\t1,\n\t\t{}\n\t],\n\t\"b\": []\n}"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// FuzzAppend checks every compact valid input against json.Indent, and that any other input
// neither panics nor loses a byte.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":"\"}"}`, `[1,"\\",{"b":[]}]`, `"\\\""`, `{"a`, `]]]`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got := Append(nil, src, "  ")
		var compact bytes.Buffer
		if json.Valid(src) && json.Compact(&compact, src) == nil && bytes.Equal(compact.Bytes(), src) {
			if want := oracle(t, src); !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		var back bytes.Buffer
		for _, c := range got {
			if c != '\n' && c != ' ' {
				back.WriteByte(c)
			}
		}
		var orig bytes.Buffer
		for _, c := range src {
			if c != '\n' && c != ' ' {
				orig.WriteByte(c)
			}
		}
		if !bytes.Equal(back.Bytes(), orig.Bytes()) {
			t.Fatalf("bytes lost: %q -> %q", src, got)
		}
	})
}

// benchListing is a listing of 2,000 random rows, compact as json.Marshal writes it.
func benchListing() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([]any, 2000)
	for i := range rows {
		rows[i] = randomValue(r, 0)
	}
	src, _ := json.Marshal(rows)
	return src
}

func BenchmarkAppend(b *testing.B) {
	src := benchListing()
	b.SetBytes(int64(len(src)))
	var dst []byte
	for b.Loop() {
		dst = Append(dst[:0], src, "  ")
	}
}

// BenchmarkIndent is encoding/json's json.Indent on the same listing, for comparison.
func BenchmarkIndent(b *testing.B) {
	src := benchListing()
	b.SetBytes(int64(len(src)))
	var dst bytes.Buffer
	for b.Loop() {
		dst.Reset()
		json.Indent(&dst, src, "", "  ")
	}
}
