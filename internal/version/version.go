// Package version holds the droneaudit version, in a package of its own so that the capture
// writer, the reports and the CLI can all name it without importing one another.
package version

// Number is the droneaudit version written into every report and evidence file.
const Number = "0.1.0"
