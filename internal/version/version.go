// Package version holds the droneaudit version, in a package of its own so that the capture
// writer, the reports and the CLI can all name it without importing one another.
package version

// Number is the droneaudit version written into every report and evidence file.
const Number = "0.1.0"

// Schema is the version of the JSON documents droneaudit writes (audit report, destinations,
// broadcasts), written into each as "schema_version". It changes when a field is renamed,
// moved or removed; adding a field does not change it.
//
// Version 2: the audit report is flat (destinations, dns_queries, geoip at the top), findings
// carry a typed destination and a scope, times say whether they are UTC or a device's clock,
// empty lists are [] and the verdict's reasons are typed.
const Schema = 2
