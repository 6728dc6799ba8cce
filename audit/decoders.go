package audit

// One line per format. Order matters only for file sniffing: the first decoder whose Sniff
// accepts a file decodes it, so more specific formats come first.
func init() {
}
