package decoders

import "fmt"

// NoteLimiter passes a decoder's notes on to its sink, at most Max of each code, and counts the
// rest. A damaged or hostile input repeats one complaint per record, and a report holding
// thousands of copies of it hides everything else; counters keep the full tally, and Flush says
// per code how many notes were held back, in the decoder's own words.
//
// Set Sink and Max (and Summary, Shared as needed) in a composite literal, as for HeldFixes. A
// NoteLimiter serves one decoder run: it is not safe for concurrent use.
type NoteLimiter struct {
	// Sink receives the notes that pass and the summaries.
	Sink Sink
	// Max is how many notes of one code reach Sink.
	Max int
	// Shared lists codes that draw on one budget of Max together, for kinds of note that report
	// the same damage in different ways: a long run of either says all there is to say.
	Shared []Code
	// Summary words the note that Flush reports for a code whose notes were held back; false
	// means none for that code. Nil: held-back notes are only counted.
	Summary func(Held) (Note, bool)

	// tallies are per budget in the order first seen, so that Flush reports in a stable order
	// (a map would shuffle the summaries from run to run and break byte-identical reports).
	tallies []Held
}

// Held is what a NoteLimiter did with the notes of one code, or of one shared budget.
type Held struct {
	Code   Code // the code; for a shared budget, the first code of NoteLimiter.Shared
	Listed int  // notes passed on to the sink
	Held   int  // notes only counted
}

// Total returns how many notes of the code the decoder reported.
func (h Held) Total() int { return h.Listed + h.Held }

// Allow counts one note of code and reports whether it is within the cap. The caller then builds
// the note and hands it to Sink: notes that would be held back are never formatted, which keeps a
// file full of damage as fast to decode as a clean one.
func (l *NoteLimiter) Allow(code Code) bool {
	h := l.tally(code)
	if h.Listed >= l.Max {
		h.Held++
		return false
	}
	h.Listed++
	return true
}

// Note passes n on to Sink when its code is within the cap, and otherwise only counts it.
func (l *NoteLimiter) Note(n Note) {
	if l.Allow(n.Code) {
		l.Sink.Note(n)
	}
}

// Flush reports the Summary of every code with notes held back, in the order the codes first
// came. Call it once, when the input is done.
func (l *NoteLimiter) Flush() {
	if l.Summary == nil {
		return
	}
	for _, h := range l.tallies {
		if h.Held == 0 {
			continue
		}
		if n, ok := l.Summary(h); ok {
			l.Sink.Note(n)
		}
	}
}

// tally returns the counts of the budget code draws on. A decoder uses a handful of codes, so a
// linear search beats a map.
func (l *NoteLimiter) tally(code Code) *Held {
	for _, c := range l.Shared {
		if c == code {
			code = l.Shared[0]
			break
		}
	}
	for i := range l.tallies {
		if l.tallies[i].Code == code {
			return &l.tallies[i]
		}
	}
	l.tallies = append(l.tallies, Held{Code: code})
	return &l.tallies[len(l.tallies)-1]
}

// NotesNotShown is the Summary of the autopilot log decoders: a warning that names the file and
// says how many notes of the code were not shown, e.g. "x.bin: 12 further junk notes not shown".
func NotesNotShown(path string) func(Held) (Note, bool) {
	return func(h Held) (Note, bool) {
		return Note{Severity: Warning, Code: h.Code, Offset: -1,
			Message: fmt.Sprintf("%s: %d further %s notes not shown", path, h.Held, h.Code)}, true
	}
}
