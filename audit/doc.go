// Package audit joins everything: a session of inputs, the run of decoders over them, the
// matching of positions against zones, findings, the verdict against a policy, and the reports.
package audit
