// Package jsonindent indents the compact JSON that encoding/json writes, byte for byte as
// json.Indent does, at the speed of a copy.
//
// json.Indent runs its full validating scanner over every byte (about 70 MB/s); a report of
// tens of thousands of rows spends more time there than in marshalling. The input here comes
// from json.Marshal, so it is valid and compact: the only work is to copy strings whole and to
// break lines at the structural bytes.
package jsonindent

import "bytes"

// Append appends src, indented, to dst: each element of an object or array on a line of its
// own, indent repeated per level, ": " after a key, and empty objects and arrays kept as {} and
// [], as json.Indent(dst, src, "", indent) writes them. src must be compact JSON (as
// json.Marshal writes it); for other input the result is unspecified but Append never panics
// and copies every byte of src.
func Append(dst, src []byte, indent string) []byte {
	return AppendPrefix(dst, src, "", indent)
}

// AppendPrefix is Append with every new line beginning with prefix, as
// json.Indent(dst, src, prefix, indent) writes it (the first line is not prefixed): the form
// of a value written inside an indented document, one element at a time.
func AppendPrefix(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	// nl is a newline, the prefix and the indent of the deepest level seen so far; a line
	// break at depth d is one copy of its first 1+len(prefix)+d*len(indent) bytes.
	head := 1 + len(prefix)
	nl := make([]byte, 0, head+8*len(indent))
	nl = append(append(nl, '\n'), prefix...)
	newline := func(dst []byte, depth int) []byte {
		for len(nl) < head+depth*len(indent) {
			nl = append(nl, indent...)
		}
		return append(dst, nl[:head+depth*len(indent)]...)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '"':
			end := stringEnd(src, i+1)
			dst = append(dst, src[i:end]...)
			i = end
			continue
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i += 2
				continue
			}
			depth++
			dst = newline(dst, depth)
		case '}', ']':
			depth = max(depth-1, 0)
			dst = newline(dst, depth)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst, depth)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			// A number or a literal: copy up to the next structural byte.
			j := i + 1
			for j < len(src) && !structural(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		i++
	}
	return dst
}

// stringEnd returns the index just past the closing quote of the string whose contents start
// at i (len(src) when it is not closed).
func stringEnd(src []byte, i int) int {
	for {
		q := bytes.IndexByte(src[i:], '"')
		if q < 0 {
			return len(src)
		}
		i += q
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := i - 1; k >= 0 && src[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

func structural(c byte) bool {
	switch c {
	case '"', '{', '}', '[', ']', ',', ':':
		return true
	}
	return false
}
