package ulog

import (
	"encoding/binary"
	"errors"
	"io"
	"sort"
)

// Summary is what a ULog file says about itself: the facts pyulog's ulog_info and ulog_messages
// print (PX4/pyulog@3cf17793:pyulog/info.py, messages.py), gathered in one streaming pass.
type Summary struct {
	Version   uint8
	StartTime uint64 // header timestamp, µs
	// LastTimestamp is the largest data timestamp seen (pyulog's last_timestamp: it starts at
	// StartTime).
	LastTimestamp uint64
	Compat        [8]byte
	Incompat      [8]byte
	Appended      []int64

	Info          map[string]Value     // I messages by key (the last one wins)
	MultiInfo     map[string][][]Value // M messages: each list is one value continued over messages
	Params        map[string]Value     // P messages of the definitions section
	ChangedParams []ParamChange        // P messages of the data section
	// DefaultParams are Q messages by default type: bit 0 system-wide, bit 1 configuration.
	DefaultParams map[uint8]map[string]Value
	Topics        []Topic  // subscriptions with data, sorted by name and multi_id
	Logged        []Logged // L and C messages in file order
	Dropouts      []Dropout

	// Truncated counts logged strings, multi-info values, parameters or info keys dropped
	// because the summary's memory bound was reached.
	Truncated int
	Problems  []Problem
}

// Topic is one subscription's statistics.
type Topic struct {
	Name    string
	MultiID uint8
	MsgID   uint16
	// Size is the message size pyulog reports: the struct without its trailing padding.
	Size  int
	Count int
}

// ParamChange is a parameter set during logging.
type ParamChange struct {
	Timestamp uint64 // pyulog's last_timestamp when the change was read
	Value     Value
}

// Logged is a logged string (L) or tagged logged string (C).
type Logged struct {
	Level     byte // '0'…'7' as in Linux syslog
	Tagged    bool
	Tag       uint16
	Timestamp uint64
	Text      string
	Offset    int64
}

// LevelName returns the syslog name of a log level as pyulog prints it.
func LevelName(level byte) string {
	names := [...]string{"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"}
	if level >= '0' && level <= '7' {
		return names[level-'0']
	}
	return "UNKNOWN"
}

// Dropout is an O message: the logger lost data for Duration ms.
type Dropout struct {
	Timestamp  uint64 // last data timestamp before it
	DurationMS uint16
	Offset     int64
}

// Bounds on what a Summary keeps, so a hostile file cannot make it grow without limit.
const (
	maxSummaryText = 8 << 20 // bytes of logged strings, keys and info values, 64 B per entry added
	maxSummaryKeys = 1 << 14 // info keys, parameters, changed parameters, dropouts (PX4 logs ~1 000 params)
)

// summarizer accumulates a Summary from messages; the decoder shares it.
type summarizer struct {
	s         Summary
	text      int
	inData    bool
	lastMulti map[string]bool
}

func newSummarizer(rd *Reader) *summarizer {
	return &summarizer{s: Summary{Version: rd.Version, StartTime: rd.StartTime, LastTimestamp: rd.StartTime,
		Info: map[string]Value{}, MultiInfo: map[string][][]Value{}, Params: map[string]Value{},
		DefaultParams: map[uint8]map[string]Value{}}}
}

// room reserves n bytes of the summary's budget, plus a per-entry overhead so that many tiny
// entries cannot exceed it either.
func (z *summarizer) room(n int) bool {
	n += 64
	if z.text+n > maxSummaryText {
		z.s.Truncated++
		return false
	}
	z.text += n
	return true
}

// add applies one message.
func (z *summarizer) add(m Message) {
	s := &z.s
	switch m.Type {
	case 'A', 'L', 'C':
		z.inData = true // the definitions section ends at the first of these (§7.2)
	}
	switch m.Type {
	case 'D':
		if m.Sub != nil {
			if ts, ok := m.Sub.Timestamp(m.Data); ok && ts > s.LastTimestamp {
				s.LastTimestamp = ts
			}
		}
	case 'I':
		if v, err := ParseInfo(m.Body); err == nil {
			if _, seen := s.Info[v.Key]; seen || len(s.Info) < maxSummaryKeys && z.room(len(v.Key)+len(v.Str)+len(v.Raw)) {
				s.Info[v.Key] = v
			}
		}
	case 'M':
		if len(m.Body) < 2 {
			return
		}
		v, err := ParseInfo(m.Body[1:])
		if err != nil || len(s.MultiInfo) >= maxSummaryKeys || !z.room(len(v.Key)+len(v.Str)+len(v.Raw)) {
			return
		}
		lists := s.MultiInfo[v.Key]
		if m.Body[0] != 0 && len(lists) > 0 {
			lists[len(lists)-1] = append(lists[len(lists)-1], v)
		} else {
			lists = append(lists, []Value{v})
		}
		s.MultiInfo[v.Key] = lists
	case 'P':
		v, err := ParseInfo(m.Body)
		if err != nil {
			return
		}
		if !z.inData {
			if _, seen := s.Params[v.Key]; seen || len(s.Params) < maxSummaryKeys && z.room(len(v.Key)) {
				s.Params[v.Key] = v
			}
		} else if len(s.ChangedParams) < maxSummaryKeys && z.room(len(v.Key)) {
			s.ChangedParams = append(s.ChangedParams, ParamChange{Timestamp: s.LastTimestamp, Value: v})
		} else {
			s.Truncated++
		}
	case 'Q':
		if len(m.Body) < 2 {
			return
		}
		v, err := ParseInfo(m.Body[1:])
		if err != nil {
			return
		}
		for bit := uint8(0); bit < 8; bit++ {
			if m.Body[0]&(1<<bit) == 0 {
				continue
			}
			d := s.DefaultParams[bit]
			if d == nil {
				d = map[string]Value{}
				s.DefaultParams[bit] = d
			}
			if _, seen := d[v.Key]; seen || len(d) < maxSummaryKeys && z.room(len(v.Key)) {
				d[v.Key] = v
			}
		}
	case 'L':
		if len(m.Body) < 9 || !z.room(len(m.Body)-9) {
			return
		}
		s.Logged = append(s.Logged, Logged{Level: m.Body[0], Timestamp: binary.LittleEndian.Uint64(m.Body[1:]),
			Text: string(m.Body[9:]), Offset: m.Offset})
	case 'C':
		if len(m.Body) < 11 || !z.room(len(m.Body)-11) {
			return
		}
		s.Logged = append(s.Logged, Logged{Level: m.Body[0], Tagged: true, Tag: binary.LittleEndian.Uint16(m.Body[1:]),
			Timestamp: binary.LittleEndian.Uint64(m.Body[3:]), Text: string(m.Body[11:]), Offset: m.Offset})
	case 'O':
		if len(m.Body) >= 2 && len(s.Dropouts) < maxSummaryKeys {
			s.Dropouts = append(s.Dropouts, Dropout{Timestamp: s.LastTimestamp,
				DurationMS: binary.LittleEndian.Uint16(m.Body), Offset: m.Offset})
		}
	}
}

func (z *summarizer) finish(rd *Reader) *Summary {
	s := &z.s
	s.Compat, s.Incompat, s.Appended = rd.Compat, rd.Incompat, rd.Appended
	for _, sub := range rd.Subscriptions() {
		if sub.Count == 0 {
			continue // pyulog lists only topics with data
		}
		t := Topic{Name: sub.Name, MultiID: sub.MultiID, MsgID: sub.MsgID, Count: sub.Count}
		if sub.Layout != nil {
			t.Size = sub.Layout.MinSize
		}
		s.Topics = append(s.Topics, t)
	}
	sort.SliceStable(s.Topics, func(i, j int) bool {
		if s.Topics[i].Name != s.Topics[j].Name {
			return s.Topics[i].Name < s.Topics[j].Name
		}
		return s.Topics[i].MultiID < s.Topics[j].MultiID
	})
	return s
}

// Summarize reads a whole ULog file and returns its summary. Damage is listed in
// Summary.Problems; an error means the file is not ULog, must be refused (ErrIncompat), or
// could not be read.
func Summarize(r io.Reader, name string) (*Summary, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	z := newSummarizer(rd)
	for {
		m, err := rd.Next()
		if err != nil {
			z.problems(rd)
			if errors.Is(err, io.EOF) {
				return z.finish(rd), nil
			}
			return z.finish(rd), err
		}
		z.add(m)
		if len(rd.problems) > 0 {
			z.problems(rd)
		}
	}
}

func (z *summarizer) problems(rd *Reader) {
	for _, p := range rd.Problems() {
		if len(z.s.Problems) < 1024 {
			z.s.Problems = append(z.s.Problems, p)
		}
	}
}
