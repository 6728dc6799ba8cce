package hikcloud

import (
	"bytes"
	"strings"
)

// EHome is the app name of Hikvision's EHome 2.x (ISUP 2.x) device registration, and EHomePort
// the default port of its registration server (the EHome service test tool's default, as
// https://www.codetd.com/ja/article/11731497 shows it: "ローカルIPアドレスとデフォルトポート7660").
const (
	EHome     = "hik-ehome"
	EHomePort = 7660
)

// EHome 2.x messages are XML documents with a <PPVSPMessage> root holding Version, Sequence,
// CommandType (REQUEST or RESPONSE), Command (REGISTER, KEEPALIVE, …) or WhichCommand, and
// Params with the device's DeviceID, FirmwareVersion, LocalIP and LocalPort (the REGISTER and
// KEEPALIVE messages captured in "海康ehome协议分析(1):设备注册", https://www.365seal.com/y/xPnQMrWlnK.html
// and https://www.365seal.com/y/w7VjdN9Kn3.html). The declaration names GB2312; the values read
// here are ASCII.

// ehomeRoot is the root element every EHome 2.x message carries near its start.
var ehomeRoot = []byte("<PPVSPMessage>")

// ehomeWindow bounds how far into a payload the root element is looked for: after the XML
// declaration, and a comment or whitespace at most.
const ehomeWindow = 256

// maxEHome bounds the part of a message the parser reads, and maxValue the length of a value.
const (
	maxEHome = 64 << 10
	maxValue = 256
)

// EHomeMessage is what an EHome 2.x message says about its sender.
type EHomeMessage struct {
	Version     string
	Sequence    string
	CommandType string // REQUEST or RESPONSE
	Command     string // Command of a request, WhichCommand of a response
	DeviceID    string // the device's serial number (REGISTER, KEEPALIVE)
	Firmware    string
	LocalIP     string // the device's own (lab segment) address, sent to the platform
}

// LooksLikeEHome reports whether a payload is an EHome 2.x message: an XML document (declaration
// first) whose <PPVSPMessage> root starts within the first 256 bytes.
func LooksLikeEHome(b []byte) bool {
	b = bytes.TrimLeft(b[:min(len(b), ehomeWindow)], "\xef\xbb\xbf \t\r\n")
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return false
	}
	return bytes.Contains(b, ehomeRoot)
}

// ParseEHome reads the fields of an EHome 2.x message. It reads the first 64 KiB at most; a
// field absent or longer than 256 bytes is left empty.
func ParseEHome(b []byte) (*EHomeMessage, error) {
	if !LooksLikeEHome(b) {
		return nil, &Error{0, "no XML document with a PPVSPMessage root in the first 256 bytes"}
	}
	b = b[:min(len(b), maxEHome)]
	m := &EHomeMessage{
		Version:     element(b, "Version"),
		Sequence:    element(b, "Sequence"),
		CommandType: element(b, "CommandType"),
		Command:     element(b, "Command"),
		DeviceID:    element(b, "DeviceID"),
		Firmware:    element(b, "FirmwareVersion"),
		LocalIP:     element(b, "LocalIP"),
	}
	if m.Command == "" {
		m.Command = element(b, "WhichCommand")
	}
	return m, nil
}

// element returns the trimmed text of the first <name>…</name> element in b, "" when there is
// none, it holds markup or it is longer than maxValue.
func element(b []byte, name string) string {
	open := []byte("<" + name + ">")
	i := bytes.Index(b, open)
	if i < 0 {
		return ""
	}
	v := b[i+len(open):]
	j := bytes.IndexByte(v[:min(len(v), maxValue+1)], '<')
	if j < 0 || !bytes.HasPrefix(v[j:], []byte("</"+name+">")) {
		return ""
	}
	return strings.TrimSpace(string(v[:j]))
}
