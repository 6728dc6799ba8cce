package dns

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// oldReadName is ReadName as it was before it built names in a stack buffer; FuzzDNS compares
// the two.
func oldReadName(b []byte, off int, fold bool) (string, int, error) {
	var sb strings.Builder
	end := -1
	pos := off
	jumps := 0
	for {
		if pos >= len(b) {
			return "", 0, &Error{Offset: pos, Reason: "name runs past the end", Err: ErrTruncated}
		}
		l := int(b[pos])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if end < 0 {
					end = pos + 1
				}
				return sb.String(), end, nil
			}
			if pos+1+l > len(b) {
				return "", 0, &Error{Offset: pos, Reason: "label runs past the end", Err: ErrTruncated}
			}
			if sb.Len()+l+1 > 255 {
				return "", 0, &Error{Offset: pos, Reason: "name longer than 255 bytes"}
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			for _, c := range b[pos+1 : pos+1+l] {
				if fold && 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				sb.WriteByte(c)
			}
			pos += 1 + l
		case 0xc0:
			if pos+2 > len(b) {
				return "", 0, &Error{Offset: pos, Reason: "pointer truncated", Err: ErrTruncated}
			}
			ptr := int(binary.BigEndian.Uint16(b[pos:]) & 0x3fff)
			if ptr >= pos {
				return "", 0, &Error{Offset: pos, Reason: "compression pointer does not point backwards"}
			}
			if jumps++; jumps > maxPointers {
				return "", 0, &Error{Offset: pos, Reason: "too many compression pointers"}
			}
			if end < 0 {
				end = pos + 2
			}
			pos = ptr
		default:
			return "", 0, &Error{Offset: pos, Reason: fmt.Sprintf("reserved label type 0x%02x", l&0xc0)}
		}
	}
}
