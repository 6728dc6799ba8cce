//go:build !unix

package engine

// Elsewhere inputs are opened plainly; the kind of file is still checked once it is open.
const (
	openNonblock = 0
	openNoFollow = 0
)
