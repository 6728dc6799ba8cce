package djilog

import (
	"encoding/binary"
	"hash/crc64"
)

// The record scrambling of format versions 7 and later is a keyed XOR whose 8-byte key is a
// CRC-64/Jones over a multiple of a fixed constant (shared/formats/dji-flight-record.md §5;
// dji-sdk/FlightRecordParsingLib@dc4bb0df:.../FlightRecordEncryptUtils.cpp `getKey`, `doXor`).

// jonesPoly is the CRC-64/Jones polynomial in the reflected form that crc64.MakeTable expects
// (formats §5.2; badboy/crc64-rs@0ebd2bdf:src/lib.rs).
const jonesPoly = 0x95AC9329AC4BC9B5

// keyMagic is multiplied by the first payload byte to form the CRC input (formats §5.1 step 3,
// `sample_tab` in FlightRecordEncryptUtils.cpp).
const keyMagic = 0x123456789ABCDEF0

var jonesTable = crc64.MakeTable(jonesPoly)

// crcJones runs the reflected CRC-64/Jones register from init over p with no final XOR. Go's
// crc64.Update complements the register on entry and exit, which is a different variant, so the
// loop is written out (formats §5.3).
func crcJones(init uint64, p []byte) uint64 {
	crc := init
	for _, b := range p {
		crc = jonesTable[byte(crc)^b] ^ (crc >> 8)
	}
	return crc
}

// keyDirect computes the key from its definition (formats §5.1 steps 2–4).
func keyDirect(first, seed byte) uint64 {
	var m [8]byte
	binary.LittleEndian.PutUint64(m[:], keyMagic*uint64(first))
	return crcJones(uint64(seed), m[:])
}

// A CRC register without final XOR is linear over GF(2) in its initial value and its data, so
// crc(seed, data) = crc(seed, 8 zero bytes) XOR crc(0, data). Two 256-entry tables therefore give
// every key with one XOR instead of eight table steps per record; TestKeyTables checks all 65536
// (first, seed) pairs against keyDirect.
var keyByFirst, keyBySeed [256]uint64

func init() {
	var zeros [8]byte
	for i := range 256 {
		keyByFirst[i] = keyDirect(byte(i), 0)
		keyBySeed[i] = crcJones(uint64(i), zeros[:])
	}
}

// xorKey returns the 8-byte key stream (little-endian in the uint64) for a payload whose first
// byte is first, of the given record type, with the prefix's magic version mv.
func xorKey(first, typ, mv byte) uint64 {
	seed := first + typ + mv // wraps mod 256 like DJI's uint8_t parameter
	return keyByFirst[first] ^ keyBySeed[seed]
}

// keyByte returns byte i of the repeating key stream.
func keyByte(k uint64, i int) byte { return byte(k >> (8 * uint(i&7))) }

// checkScrambled reports whether the payload's last byte, unscrambled, equals the seed: DJI's
// per-record integrity test (formats §5.1 step 6). It returns the key for later descrambling.
// The payload must hold at least 3 bytes.
func checkScrambled(p []byte, typ, mv byte) (uint64, bool) {
	first := p[0]
	k := xorKey(first, typ, mv)
	n := len(p)
	return k, p[n-1]^keyByte(k, n-2) == first+typ+mv
}

// descramble writes the len(p)−2 content bytes of payload p into dst (which must be at least
// that long) and returns them.
func descramble(dst, p []byte, k uint64) []byte {
	src := p[1 : len(p)-1]
	dst = dst[:len(src)]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^k)
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] ^ keyByte(k, i)
	}
	return dst
}
