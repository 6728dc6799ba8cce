package corpus

// CaptureFolders are the corpus folders that hold pcap and pcapng captures.
var CaptureFolders = []string{"duml", "mavlink", "ota", "tls"}

// CaptureSeeds returns the corpus captures as fuzz seeds (small ones whole, larger ones cut at
// 64 KiB): real link types, interfaces, DSBs and damage for the capture-reading targets.
func CaptureSeeds() [][]byte {
	return Seeds(1<<20, 64<<10, func(_ string, b []byte) bool {
		return len(b) >= 4 && (string(b[:4]) == "\xd4\xc3\xb2\xa1" || string(b[:4]) == "\xa1\xb2\xc3\xd4" ||
			string(b[:4]) == "\x4d\x3c\xb2\xa1" || string(b[:4]) == "\xa1\xb2\x3c\x4d" || string(b[:4]) == "\x0a\x0d\x0d\x0a")
	}, CaptureFolders...)
}
