package duml

// Scan walks b for DUML frames with the resynchronisation rule of dji-network.md §3.2: a candidate
// whose header CRC-8 fails, or whose length or version is impossible, costs one byte; a frame whose
// CRC-16 fails is reported (evidence of damage) and also costs one byte, so that a real frame
// starting inside it is not lost; a good frame is consumed whole.
//
// fn is called for every good frame and every frame with a bad CRC-16, with its offset in b.
// Scan returns how many bytes it consumed: b[consumed:] is the start of a frame that b does not
// hold completely (a stream caller keeps it for the next call). skipped counts bytes that belong
// to no good frame.
func Scan(b []byte, atEOF bool, fn func(f *Frame, off int, badCRC bool)) (consumed, skipped int) {
	consumed, skipped, _ = scan(b, atEOF, true, fn, nil)
	return consumed, skipped
}

// scan is Scan for a stream read in pieces. synced says whether b starts right where the last
// good frame ended (or at the start of the stream); the returned synced says the same of the
// unconsumed rest. Given cut, a last frame that the end of the stream cuts short right after a
// good frame (a header, or a header whose length runs past the end) is reported through cut,
// and not counted as skipped: a cut file, not junk.
func scan(b []byte, atEOF, synced bool, fn func(f *Frame, off int, badCRC bool), cut func(off, n int)) (consumed, skipped int, _ bool) {
	p := 0
	for p < len(b) {
		if b[p] != Start {
			p++
			skipped++
			synced = false
			continue
		}
		n, _, err := headerLen(b[p:])
		if err == ErrShort {
			break
		}
		if err != nil {
			p++
			skipped++
			synced = false
			continue
		}
		if p+n > len(b) {
			break
		}
		f, err := Parse(b[p : p+n])
		if err != nil {
			fn(&f, p, true)
			p++
			skipped++
			synced = false
			continue
		}
		fn(&f, p, false)
		p += n
		synced = true
	}
	if atEOF && p < len(b) {
		if cut != nil && synced {
			cut(p, len(b)-p)
		} else {
			skipped += len(b) - p
		}
		p = len(b)
	}
	return p, skipped, synced
}
