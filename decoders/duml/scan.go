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
	p := 0
	for p < len(b) {
		if b[p] != Start {
			p++
			skipped++
			continue
		}
		n, _, err := headerLen(b[p:])
		if err == ErrShort {
			break
		}
		if err != nil {
			p++
			skipped++
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
			continue
		}
		fn(&f, p, false)
		p += n
	}
	if atEOF && p < len(b) {
		skipped += len(b) - p
		p = len(b)
	}
	return p, skipped
}
