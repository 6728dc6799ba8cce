package remoteid

import (
	"encoding/binary"
	"hash/maphash"
	"time"
)

// DedupWindow is how far apart two copies of one transmission may be captured: a card hopping
// channels hears a 2.4 GHz beacon on the adjacent channels too (§8.1).
const DedupWindow = time.Second

// maxDedupEntries bounds the dedup memory whatever the frame rate.
const maxDedupEntries = 1 << 16

// Dedup recognises copies of one transmission heard again within DedupWindow, keyed by
// transmitter, sequence control and the drone elements' bytes (§8.1; the message counter and the
// DJI seq are inside the hashed bytes). It never merges different transmitters: spoofers send
// the same content from many addresses. Memory is bounded by maxDedupEntries.
type Dedup struct {
	seed  maphash.Seed
	seen  map[uint64]time.Time
	order []dedupEntry // arrival order, for eviction
	head  int
}

type dedupEntry struct {
	key uint64
	t   time.Time
}

// NewDedup returns an empty Dedup.
func NewDedup() *Dedup {
	return &Dedup{seed: maphash.MakeSeed(), seen: make(map[uint64]time.Time)}
}

// Key returns the duplicate key of a sighting.
func (dd *Dedup) Key(s *Sighting) uint64 {
	var h maphash.Hash
	h.SetSeed(dd.seed)
	var hdr [8]byte
	copy(hdr[:6], s.SA[:])
	binary.LittleEndian.PutUint16(hdr[6:], s.SeqCtrl)
	h.Write(hdr[:])
	for i := range s.Elements {
		h.Write(s.Elements[i].Value)
	}
	return h.Sum64()
}

// Duplicate reports whether s repeats a sighting kept within DedupWindow; otherwise it records s.
func (dd *Dedup) Duplicate(s *Sighting) bool {
	k := dd.Key(s)
	dd.evict(s.Time)
	if t, ok := dd.seen[k]; ok {
		if d := s.Time.Sub(t); d <= DedupWindow && d >= -DedupWindow {
			return true
		}
	}
	dd.seen[k] = s.Time
	dd.order = append(dd.order, dedupEntry{k, s.Time})
	return false
}

// evict forgets entries older than the window and keeps the table bounded.
func (dd *Dedup) evict(now time.Time) {
	for dd.head < len(dd.order) {
		e := dd.order[dd.head]
		if now.Sub(e.t) <= DedupWindow && len(dd.order)-dd.head < maxDedupEntries {
			break
		}
		if t, ok := dd.seen[e.key]; ok && t.Equal(e.t) {
			delete(dd.seen, e.key)
		}
		dd.head++
	}
	if dd.head > 1024 && dd.head*2 > len(dd.order) {
		n := copy(dd.order, dd.order[dd.head:])
		dd.order, dd.head = dd.order[:n], 0
	}
}
