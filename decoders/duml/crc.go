package duml

// The two DUML checksums (dji-network.md §3.2, re-derived from o-gs/dji-firmware-tools
// comm_dissector/wireshark/dji-dumlv1-proto.lua). Both are reflected CRCs whose seeds are register
// values already in the reflected domain.

// crc8Seed is the header CRC-8 register start value.
const crc8Seed = 0x77

// crc16Seed is the frame CRC-16 register start value used by Phantom 3/4 and Mavic firmware.
const crc16Seed = 0x3692

var crc8Table, crc16Table = makeTables()

func makeTables() (t8 [256]uint8, t16 [256]uint16) {
	for i := 0; i < 256; i++ {
		c8 := uint8(i)
		c16 := uint16(i)
		for b := 0; b < 8; b++ {
			// 0x8C is poly 0x31 reflected (Dallas/Maxim 1-Wire); 0x8408 is 0x1021 reflected (KERMIT).
			if c8&1 != 0 {
				c8 = c8>>1 ^ 0x8c
			} else {
				c8 >>= 1
			}
			if c16&1 != 0 {
				c16 = c16>>1 ^ 0x8408
			} else {
				c16 >>= 1
			}
		}
		t8[i], t16[i] = c8, c16
	}
	return
}

// CRC8 computes the header checksum over b, starting from the DUML seed.
func CRC8(b []byte) uint8 {
	c := uint8(crc8Seed)
	for _, x := range b {
		c = crc8Table[c^x]
	}
	return c
}

// CRC16 computes the frame checksum over b, starting from the DUML seed.
func CRC16(b []byte) uint16 {
	c := uint16(crc16Seed)
	for _, x := range b {
		c = c>>8 ^ crc16Table[uint8(c)^x]
	}
	return c
}
