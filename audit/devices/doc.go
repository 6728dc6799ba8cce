// Package devices builds the device inventory of lab captures: one row per device seen on the
// lab segment (its MAC address), with the vendor the IEEE registry gives for the address (or the
// flag that it is randomised), its addresses, what it announced about itself (DHCP host name,
// vendor class and parameter list, mDNS, SSDP and LLMNR names and services, ONVIF WS-Discovery
// types and scopes), the vendor class those signs point to, when it was seen, how many bytes it
// sent and received, and the destinations it contacted, joined from the destination inventory.
package devices
