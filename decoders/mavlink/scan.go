package mavlink

// Scan walks b for MAVLink frames with the backtracking framer of mavlink-dataflash-ulog.md §3.2:
// a candidate that fails its checksum costs exactly one byte, so a false start byte never hides
// the real frames inside its claimed length. A frame whose id the dialect does not know cannot be
// checked; it is accepted (as unverified) only when a verified frame, or the end of the input,
// follows it directly.
//
// fn is called for each accepted frame with its offset in b; skip is called for each run of bytes
// that belongs to no frame. Scan returns how many bytes it consumed; unless atEOF, the rest of b
// is the start of a frame b does not hold completely. With atEOF, a cut last frame is reported as
// skipped bytes.
func Scan(b []byte, atEOF bool, fn func(f *Frame, off int), skip func(off, n int)) int {
	return scan(b, atEOF, fn, skip, nil)
}

// scan is Scan that, given cut, reports a last frame that the end of the data cuts short right
// after a frame (or at the start) through cut instead of skip: a cut file, not junk.
func scan(b []byte, atEOF bool, fn func(f *Frame, off int), skip func(off, n int), cut func(off, n int)) int {
	p, run := 0, -1
	flush := func(end int) {
		if run >= 0 {
			skip(run, end-run)
			run = -1
		}
	}
	for p < len(b) {
		c := b[p]
		if c != STXv1 && c != STXv2 {
			if run < 0 {
				run = p
			}
			p++
			continue
		}
		f, st := candidate(b[p:])
		switch st {
		case stShort:
			if !atEOF {
				flush(p)
				return p
			}
			if cut != nil && run < 0 {
				cut(p, len(b)-p)
				return len(b)
			}
		case stOK:
			flush(p)
			fn(&f, p)
			p += len(f.Raw)
			continue
		case stUnknown:
			next := p + len(f.Raw)
			if next == len(b) && atEOF {
				flush(p)
				fn(&f, p)
				p = next
				continue
			}
			if next < len(b) {
				_, nst := candidate(b[next:])
				if nst == stOK {
					flush(p)
					fn(&f, p)
					p = next
					continue
				}
				if nst == stShort && !atEOF {
					flush(p)
					return p
				}
			} else if !atEOF {
				flush(p)
				return p
			}
		}
		if run < 0 {
			run = p
		}
		p++
	}
	flush(p)
	return p
}
