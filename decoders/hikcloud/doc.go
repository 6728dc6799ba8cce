// Package hikcloud recognises, by content, the traffic of Hikvision devices and apps with
// servers whose addresses and ports are handed out at run time or configured on the device:
//
//   - EZVIZ / Hik-Connect VTM/VTDU video transmission (vtm.go): the cloud stream relay an app or
//     device talks to over TCP after the login hands out a "ysproto://host:port/live?dev=…" URL.
//     Its 8-byte header and message codes are as LethalEthan/LE-EZVIZ-VS documents them
//     (protocol.md, client/vtmPacket.go, client/messageCodes.go, client/streamurl.go;
//     https://github.com/LethalEthan/LE-EZVIZ-VS).
//   - EHome 2.x (ISUP 2.x) device registration (ehome.go): a Hikvision device's plain-XML
//     <PPVSPMessage> REGISTER and KEEPALIVE requests to the platform configured on it (default
//     port 7660, registration over UDP), as public write-ups of captured traffic show them.
//
// What the sources do not describe is not recognised: the headers of VTM's encrypted channels
// (0x0a, 0x0b) beyond the channel byte, ISUP 4.0/5.0's binary (encrypted) framing, the CAS
// signalling on port 6500 and EZVIZ's UDP P2P/NAT-traversal servers. Those flows are classified
// by name only (the owner table's *.ezvizlife.com, *.hik-connect.com … rules) when a lookup
// names them.
package hikcloud
