package gpx

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"

	"droneaudit/decoders"
)

// maxEntry bounds the decompressed bytes read from one KML entry; zip headers may lie about
// sizes (zip bombs), so the bound is enforced on the bytes actually inflated. A variable so
// that tests can exercise it without inflating 256 MiB.
var maxEntry int64 = 256 << 20

const (
	// maxTotal bounds the decompressed bytes read from all entries of one KMZ.
	maxTotal = 1 << 30
	// maxEntries bounds the KML entries decoded from one KMZ.
	maxEntries = 64
)

var errEntryTooLarge = errors.New("decompressed entry exceeds the decoder's bound (possible zip bomb)")

// limitReader stops with errEntryTooLarge, not a silent EOF, so that the cut is reported.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errEntryTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// decodeKMZ decodes every .kml (and DJI .wpml) entry of a KMZ.
func decodeKMZ(ctx context.Context, in decoders.Input, sink decoders.Sink, ex *exposure) error {
	zr, err := zip.NewReader(in.R, in.Size)
	if err != nil {
		code := decoders.CodeBadZip
		if errors.Is(err, zip.ErrFormat) {
			code = decoders.CodeTruncated
		}
		sink.Note(decoders.Note{Severity: decoders.Error, Code: code, Locator: "zip directory", Offset: in.Size,
			Message: fmt.Sprintf("%s: KMZ zip directory unreadable (%v); a truncated KMZ loses its directory at the end of the file", in.Path, err)})
		return nil
	}
	ex.format = "KMZ"
	total := int64(maxTotal)
	n := 0
	for _, f := range zr.File {
		if !isKMLName(f.Name) {
			continue
		}
		n++
		if n > maxEntries {
			sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTooManyEntries, Locator: f.Name, Offset: -1,
				Message: fmt.Sprintf("%s: more than %d KML entries; the rest were not decoded", in.Path, maxEntries)})
			break
		}
		off, _ := f.DataOffset()
		if f.UncompressedSize64 > uint64(maxEntry) || total <= 0 {
			sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTooLarge, Locator: f.Name, Offset: off,
				Message: fmt.Sprintf("%s: entry %s declares %d bytes decompressed, over the %d-byte bound (zip bomb?); skipped", in.Path, f.Name, f.UncompressedSize64, maxEntry)})
			continue
		}
		rc, err := f.Open()
		if err != nil {
			sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeBadZip, Locator: f.Name, Offset: off,
				Message: fmt.Sprintf("%s: entry %s at byte %d cannot be opened: %v", in.Path, f.Name, off, err)})
			continue
		}
		lr := &limitReader{r: rc, left: min(maxEntry, total)}
		p := newParser(in, sink, f.Name, -1, ex)
		err = p.run(ctx, lr)
		total -= min(maxEntry, total) - lr.left
		rc.Close()
		if err != nil {
			return err
		}
	}
	if n == 0 {
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeNoKML, Locator: "zip directory", Offset: -1,
			Message: fmt.Sprintf("%s: zip holds no .kml entry", in.Path)})
	}
	return nil
}
