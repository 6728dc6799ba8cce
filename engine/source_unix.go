//go:build unix

package engine

import "syscall"

// Flags for opening an input: never wait on a named pipe or a device; in a walked folder, never
// follow a symlink that was not one when the folder was listed.
const (
	openNonblock = syscall.O_NONBLOCK
	openNoFollow = syscall.O_NOFOLLOW
)
