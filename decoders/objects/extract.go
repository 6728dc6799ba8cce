package objects

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// ErrConflict means a different file already has the name an object would be written under.
var ErrConflict = errors.New("a different file already exists under the object's name")

// Extract writes a body into dir as <sha256><ext> (the extension of its kind), mode 0600. An
// object already there with the same bytes is left as it is; a different file of that name is
// never overwritten (ErrConflict). The file appears whole or not at all: it is written under a
// temporary name and linked into place, which fails rather than replaces.
func Extract(dir string, body []byte) (path string, err error) {
	sum := sha256.Sum256(body)
	path = filepath.Join(dir, hex.EncodeToString(sum[:])+Identify(body).Ext())
	if same, err := sameContent(path, body); err == nil {
		if same {
			return path, nil
		}
		return path, ErrConflict
	} else if !errors.Is(err, os.ErrNotExist) {
		return path, err
	}
	tmp, err := os.CreateTemp(dir, ".extract-*")
	if err != nil {
		return path, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return path, err
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return path, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return path, err
	}
	if err := tmp.Close(); err != nil {
		return path, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) { // written meanwhile by another extraction
			if same, err := sameContent(path, body); err == nil && same {
				return path, nil
			}
			return path, ErrConflict
		}
		return path, err
	}
	return path, nil
}

// sameContent reports whether the regular file at path holds exactly b.
func sameContent(path string, b []byte) (bool, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() || st.Size() != int64(len(b)) {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for off := 0; ; {
		n, err := f.Read(buf)
		if n > 0 {
			if off+n > len(b) || !bytes.Equal(buf[:n], b[off:off+n]) {
				return false, nil
			}
			off += n
		}
		if err == io.EOF {
			return off == len(b), nil
		}
		if err != nil {
			return false, err
		}
	}
}
