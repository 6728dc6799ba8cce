package netfixture

import (
	"encoding/binary"
	"net/netip"
)

// Addresses of GenerateHikCloud: a camera on the lab segment, two EZVIZ VTM relays no lookup
// names (one on the usual port 8554, one on a port handed out at run time) and the EHome
// platform the camera is set to register with.
var (
	HikCamera      = netip.MustParseAddr("192.168.50.20")
	HikVTMRelays   = []netip.AddrPort{netip.MustParseAddrPort("47.91.88.200:8554"), netip.MustParseAddrPort("47.254.1.2:9010")}
	HikEHomeServer = netip.MustParseAddrPort("198.51.100.7:7660")
)

// HikDeviceSerial is the camera serial number GenerateHikCloud's messages carry.
const HikDeviceSerial = "BD1234567"

// vtmStreamInfoReq is an EZVIZ VTM StreamInfoReq as LethalEthan/LE-EZVIZ-VS lays it out
// (protocol.md, client/messageCodes.go): 0x24, message channel 0, body length, sequence 0, code
// 0x13b, then a protobuf body whose field 1 (key 0x0a) is the ysproto stream URL.
func vtmStreamInfoReq(url string) []byte {
	body := append([]byte{0x0a, byte(len(url))}, url...)
	b := []byte{0x24, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	b = append(b, 0, 0, 0x01, 0x3b)
	return append(b, body...)
}

// GenerateHikCloud writes a camera asking two VTM relays for a stream over TCP and registering
// with an EHome 2.0 platform over UDP (the REGISTER request of "海康ehome协议分析(1):设备注册",
// https://www.365seal.com/y/xPnQMrWlnK.html), with no DNS: what is known of the servers comes
// from the content of the flows alone.
func GenerateHikCloud(w *Writer) error {
	for i, srv := range HikVTMRelays {
		c, err := w.TCP(netip.AddrPortFrom(HikCamera, uint16(41000+i)), srv)
		if err != nil {
			return err
		}
		url := "ysproto://" + srv.String() + "/live?dev=" + HikDeviceSerial + "&chn=1&stream=1"
		if err := c.Send(true, vtmStreamInfoReq(url)); err != nil {
			return err
		}
		if err := c.Close(); err != nil {
			return err
		}
	}
	reg := `<?xml version="1.0" encoding="GB2312"?><PPVSPMessage><Version>2.0</Version><Sequence>1</Sequence>` +
		`<CommandType>REQUEST</CommandType><Command>REGISTER</Command><Params><DeviceID>` + HikDeviceSerial +
		`</DeviceID></Params></PPVSPMessage>`
	return w.UDP(netip.AddrPortFrom(HikCamera, 41100), HikEHomeServer, []byte(reg))
}
