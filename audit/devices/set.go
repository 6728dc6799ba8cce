package devices

import (
	"maps"
	"slices"
	"strings"
)

// set is a set of strings bounded to its smallest members: once full, a new member only enters
// in place of a greater one. The members kept are then the same however the observations were
// split between the flow shards, so the merged inventory does not depend on their number.
type set map[string]struct{}

// add puts v in the set bounded to limit members.
func (s *set) add(v string, limit int) {
	if v == "" {
		return
	}
	if *s == nil {
		*s = set{}
	}
	m := *s
	if _, ok := m[v]; ok {
		return
	}
	if len(m) < limit {
		m[v] = struct{}{}
		return
	}
	greatest := ""
	for k := range m {
		if k > greatest {
			greatest = k
		}
	}
	if v < greatest {
		delete(m, greatest)
		m[v] = struct{}{}
	}
}

// merge adds the members of o.
func (s *set) merge(o set, limit int) {
	for v := range o {
		s.add(v, limit)
	}
}

// sorted returns the members in order, never nil (JSON lists are always arrays).
func (s set) sorted() []string {
	if len(s) == 0 {
		return []string{}
	}
	return slices.Sorted(maps.Keys(s))
}

// sortedFold returns the members in order with case-insensitive duplicates dropped (mDNS and
// LLMNR names compare without case): the first in sort order of each is kept.
func (s set) sortedFold() []string {
	out := s.sorted()
	return slices.CompactFunc(out, strings.EqualFold)
}
