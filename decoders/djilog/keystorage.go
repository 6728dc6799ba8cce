package djilog

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"droneaudit/decoders"
)

// maxKeyBlobNotes bounds the key-blob notes of one file; further blobs are only counted.
const maxKeyBlobNotes = 64

// keyTally summarises the KeyStorage records (type 56) of a v13+ file: the wrapped AES keys that
// DJI's keychain API turns into record keys (formats §6.3; lvauvillier key_storage.rs). They are
// written lazily, so the whole file is scanned. The blobs themselves are not kept: memory stays
// flat, and an auditor who needs them re-reads the offsets.
type keyTally struct {
	encrypted int64 // records that need keys
	blobs     int64
	perPoint  [16]int64 // by feature point; index 0 collects unknown points
	firstOff  int64
	notes     decoders.NoteLimiter // one note per blob, up to maxKeyBlobNotes
}

func (r *run) keyStorage(rec record, c []byte) {
	if len(c) < 4 {
		return
	}
	fp := int(binary.LittleEndian.Uint16(c))
	n := int(binary.LittleEndian.Uint16(c[2:]))
	if 4+n > len(c) {
		r.short(rec, "KeyStorage", len(c), 4+n)
		return
	}
	k := &r.keys
	if k.blobs == 0 {
		k.firstOff = rec.Offset
	}
	k.blobs++
	if k.notes.Allow(decoders.CodeKeyBlob) {
		// The blob is what a keychain request would carry (formats §6.3); the tool never sends it.
		r.note(decoders.Info, decoders.CodeKeyBlob, rec.Offset, r.locator(rec),
			fmt.Sprintf("offset %d: KeyStorage blob for feature point %s (%d bytes), needed to ask DJI for this file's keys", rec.Offset, featurePointName(fp), n),
			map[string]string{"feature_point": strconv.Itoa(fp), "feature_point_name": featurePointName(fp),
				"keychain": strconv.FormatInt(r.counts[typeKeychainSwitch], 10), "length": strconv.Itoa(n),
				"data_base64": base64.StdEncoding.EncodeToString(c[4 : 4+n])})
	}
	if fp <= 0 || fp >= len(k.perPoint) {
		fp = 0
	}
	k.perPoint[fp]++
}

// featureList lists the feature points that have key blobs, e.g. "Base×3, Camera×1".
func (k *keyTally) featureList() string {
	var parts []string
	for fp, n := range k.perPoint {
		if n == 0 {
			continue
		}
		name := "Unknown"
		if fp > 0 {
			name = featurePointName(fp)
		}
		parts = append(parts, name+"×"+strconv.FormatInt(n, 10))
	}
	return strings.Join(parts, ", ")
}
