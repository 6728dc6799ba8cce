package djilog

import (
	"fmt"
	"strconv"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/exif"
	"droneaudit/geo"
)

// The moment pictures: back-to-back JPEGs after the end-of-records marker, the non-zero full
// images in slot order, then the non-zero thumbnails, ending at the details offset (v≤11) or the
// end of the file (v13+) (formats §7, DJI's flight_record_version13_decoder.cpp).

// exifWindow is how much of each picture is searched for EXIF: an APP1 segment is at most 64 KiB
// and sits before the image data.
const exifWindow = 70 << 10

// picture is one embedded JPEG.
type picture struct {
	slot  int
	thumb bool
	off   int64
	size  int64
}

func (r *run) pictures() []picture {
	if r.det == nil || r.imgStart < 0 {
		return nil
	}
	var out []picture
	off := r.imgStart
	for _, thumb := range []bool{false, true} {
		for i := range imageSlots {
			n := int64(r.det.ImageLen[i])
			if thumb {
				n = int64(r.det.ThumbLen[i])
			}
			if n <= 0 {
				continue
			}
			out = append(out, picture{slot: i, thumb: thumb, off: off, size: n})
			off += n
		}
	}
	return out
}

// images locates the embedded pictures, checks that each is a JPEG and reads its EXIF GPS.
func (r *run) images() {
	pics := r.pictures()
	if len(pics) == 0 {
		return
	}
	var largest int64
	for _, p := range pics {
		largest = max(largest, p.size)
	}
	buf := make([]byte, min(exifWindow, largest, r.in.Size))
	for idx, p := range pics {
		kind := "full"
		if p.thumb {
			kind = "thumbnail"
		}
		loc := "picture " + strconv.Itoa(idx+1) + " @ 0x" + strconv.FormatInt(p.off, 16)
		attrs := map[string]string{"offset": strconv.FormatInt(p.off, 10), "size": strconv.FormatInt(p.size, 10),
			"kind": kind, "slot": strconv.Itoa(p.slot)}
		b := buf[:min(int64(len(buf)), p.size)]
		n, err := r.readAt(b, p.off)
		if err != nil {
			r.note(decoders.Warning, decoders.CodeEmbeddedImage, p.off, loc,
				fmt.Sprintf("offset %d: %s picture of %d bytes runs past the end of the file (%d bytes read)", p.off, kind, p.size, n), attrs)
			continue
		}
		var tail [2]byte
		if _, err := r.readAt(tail[:], p.off+p.size-2); err == nil && (tail[0] != 0xFF || tail[1] != 0xD9) {
			attrs["end"] = "no FF D9 end marker"
		}
		g, found, err := exif.JPEGGPS(b)
		switch {
		case err != nil:
			attrs["error"] = err.Error()
		case found:
			attrs["exif_lat"] = strconv.FormatFloat(g.Lat, 'f', 7, 64)
			attrs["exif_lon"] = strconv.FormatFloat(g.Lon, 'f', 7, 64)
			f := geo.Fix{Lat: g.Lat, Lon: g.Lon, HasAlt: g.HasAlt, AltM: g.AltM, AltRef: "msl", Role: geo.RolePhoto,
				PrecisionM: precisionF64, Time: r.startTime(),
				Evidence: r.in.Evidence(Name, loc, p.off, geo.ChannelOnDevice)}
			f.Evidence.Message = "moment picture EXIF"
			f.Evidence.Encoding = "EXIF GPS rationals (deg, min, sec)"
			if f.Valid() {
				r.sink.Fix(f)
			}
		default:
			attrs["exif_gps"] = "none"
		}
		r.sink.Count("images", 1)
		r.note(decoders.Info, decoders.CodeEmbeddedImage, p.off, loc,
			fmt.Sprintf("offset %d: embedded %s JPEG (slot %d) of %d bytes", p.off, kind, p.slot, p.size), attrs)
	}
}

// startTime is the details start, or the zero time.
func (r *run) startTime() (t0 time.Time) {
	if r.det != nil {
		return r.det.Start()
	}
	return t0
}

// trailer checks the bytes after a v7–v11 details block: one scrambled FirmwareVersion record
// (type 15) is normal (formats §3.4); anything else is reported.
func (r *run) trailer() {
	if r.det == nil || r.p.version > 11 || r.detOff < 0 {
		return
	}
	off := r.detOff + detailsLenV6
	left := r.in.Size - off
	if left <= 0 {
		return
	}
	b := make([]byte, min(left, int64(maxRecord)))
	if _, err := r.readAt(b, off); err != nil {
		return
	}
	k := &walker{hlen: 2, scrambled: r.p.version >= firstScrambled, mv: r.p.magicVer}
	total, st, _ := k.frameAt(b)
	if st == frameOK && b[0] == typeFirmware && int64(total) == left {
		r.sink.Count("details_trailer", 1)
		return
	}
	r.note(decoders.Info, decoders.CodeTrailingBytes, off, "after details",
		fmt.Sprintf("offset %d: %d bytes after the details block are not the usual firmware-version record", off, left), nil)
}
