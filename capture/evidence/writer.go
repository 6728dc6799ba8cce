// Package evidence writes what a live capture records as evidence: rotating pcapng files with
// one interface block per interface and the TLS keys embedded, a SHA256SUMS manifest that
// `sha256sum -c` checks without droneaudit, and the key log follower that feeds the keys in. It
// knows nothing of sockets, so tests and tools can write and check evidence without root.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"droneaudit/capture"
)

// Interface describes one capture interface; each gets its own Interface Description Block, and
// packets name it by its index in Options.Interfaces.
type Interface struct {
	Name        string           // e.g. "wlan0"; if_name
	Description string           // free text; if_description
	LinkType    capture.LinkType // capture.LinkEthernet for an AP or bridge, capture.LinkRadiotap for a monitor interface
	SnapLen     int              // largest captured length; 0 means 262144
}

// IfaceStats are the kernel's cumulative counters for one interface.
type IfaceStats struct {
	Received uint64 // packets the socket saw
	Dropped  uint64 // packets the kernel dropped because the ring was full
}

// Options configures an evidence Writer.
type Options struct {
	Dir        string        // output folder, created with mode 0700 when missing
	Prefix     string        // file name prefix; default "capture"
	Interfaces []Interface   // at least one
	RotateSize int64         // start a new file before one would exceed this many bytes; 0 = never
	RotateTime time.Duration // start a new file when the current one is this old; 0 = never
	App        string        // written as shb_userappl, e.g. "droneaudit v0.3"
	// Stats, when set, is asked for each interface's kernel counters as a file closes; they are
	// written into an Interface Statistics Block so the file itself says whether packets were lost.
	Stats func(iface int) (IfaceStats, bool)
	// OnClose, when set, is called after each file is closed and listed in the manifest.
	OnClose func(ClosedFile)
	// HoldBack keeps each packet this long in memory before it goes into the file, so that a
	// Decryption Secrets Block added meanwhile is written before it. Wireshark applies a DSB
	// only to the packets after it, and a key log is written a few milliseconds after the
	// handshake packets it decrypts. 0 writes packets at once.
	HoldBack time.Duration
	// Now returns the current time; tests replace it. Default time.Now.
	Now func() time.Time
}

// ClosedFile is one finished evidence file, as listed in the manifest.
type ClosedFile struct {
	Name      string // base name inside the output folder
	Path      string
	SHA256    string // lower-case hex of the whole file
	Size      int64
	Packets   int64
	Truncated bool   // the file was cut back to its last whole block after a write error
	Note      string // why it was truncated
}

// ManifestName is the name of the SHA256SUMS-style manifest in the output folder.
const ManifestName = "SHA256SUMS"

// ReserveName is the hidden file in the output folder that holds disk space back so that the
// manifest can still be written when the disk fills up; it is removed when the capture ends,
// so one left behind means a capture did not end cleanly.
const ReserveName = ".droneaudit-reserve"

// reserveSize is how much space is held back for the manifest.
const reserveSize = 256 << 10

// defaultSnapLen is the snap length of an interface that names none: 256 KiB, the largest
// tools use by default and the frame size the capture reader accepts without question.
const defaultSnapLen = 262144

// maxSecretsBlock bounds one Decryption Secrets Block: the capture reader refuses non-packet
// blocks above 16 MiB, so a larger one would make the file unreadable to our own audit.
const maxSecretsBlock = 16 << 20

// flushAt is how much the writer buffers before writing to the file: large enough to keep the
// number of system calls low at line rate, small enough that a crash loses little.
const flushAt = 256 << 10

// maxHoldBytes bounds the hold-back queue; beyond it the oldest packets are written early.
const maxHoldBytes = 64 << 20

// maxReplaySecrets bounds the key log kept in memory to be repeated at the start of every new
// file, so that each rotated file carries the keys of the sessions it may contain.
const maxReplaySecrets = 16 << 20

// blockEnd marks where a block ends within the buffer and whether it holds a packet.
type blockEnd struct {
	off    int
	packet bool
	size   int // captured bytes of the packet
}

// ErrClosed is returned by a Writer after Close or after a fatal write error.
var ErrClosed = errors.New("capture writer closed")

// Writer writes packets into rotating pcapng files with one Interface Description Block per
// interface, embeds key logs as Decryption Secrets Blocks, and keeps a SHA256SUMS manifest of
// the finished files. It is safe for concurrent use. A write error (for example a full disk)
// stops the writer: the current file is cut back to its last whole block, hashed and listed,
// so every file left behind is a valid pcapng file.
type Writer struct {
	mu   sync.Mutex
	opts Options

	f         *os.File
	name      string
	opened    time.Time
	committed int64 // bytes of f that are written and hashed
	headerEnd int64 // end of the section and interface blocks of f
	sum       hash.Hash
	buf       []byte
	ends      []blockEnd // so a partial write can be cut at a block boundary
	packets   int64      // packets in the file, written or buffered

	// Hold-back queue: encoded packet blocks not yet in buf, so that key log lines that arrive a
	// little after the handshake they belong to still land before its packets in the file.
	pending []byte
	held    []heldPacket
	head    int
	seq     int

	secrets     []capture.Secret
	secretBytes int

	start    time.Time
	files    []ClosedFile
	manifest []ManifestEntry
	total    Stats
	err      error // sticky: the writer stopped
}

// Stats counts what a Writer has written so far.
type Stats struct {
	Packets int64 // packets written
	Bytes   int64 // captured packet bytes written
	Files   int   // files closed and listed in the manifest
}

// NewWriter creates the output folder when needed, reserves space for the manifest and opens
// the first file. A manifest already in the folder is kept and extended.
func NewWriter(opts Options) (*Writer, error) {
	if len(opts.Interfaces) == 0 {
		return nil, errors.New("capture writer: no interfaces")
	}
	if opts.Prefix == "" {
		opts.Prefix = "capture"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.App == "" {
		opts.App = "droneaudit"
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("capture writer: %w", err)
	}
	w := &Writer{opts: opts, sum: sha256.New(), start: opts.Now()}
	if b, err := os.ReadFile(filepath.Join(opts.Dir, ManifestName)); err == nil {
		m, err := ParseManifest(b)
		if err != nil {
			return nil, fmt.Errorf("capture writer: existing %s: %w", filepath.Join(opts.Dir, ManifestName), err)
		}
		w.manifest = m
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("capture writer: %w", err)
	}
	if err := w.makeReserve(); err != nil {
		return nil, err
	}
	if err := w.open(); err != nil {
		w.dropReserve()
		return nil, err
	}
	return w, nil
}

func (w *Writer) makeReserve() error {
	p := filepath.Join(w.opts.Dir, ReserveName)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("capture writer: %w", err)
	}
	// Real writes, not a sparse file: the blocks must be allocated to be worth anything.
	_, err = f.Write(make([]byte, reserveSize))
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("capture writer: reserving %d bytes in %s for the manifest: %w", reserveSize, w.opts.Dir, err)
	}
	return nil
}

func (w *Writer) dropReserve() { os.Remove(filepath.Join(w.opts.Dir, ReserveName)) }

func (w *Writer) open() error {
	now := w.opts.Now()
	for {
		w.seq++
		w.name = fmt.Sprintf("%s-%05d-%s.pcapng", w.opts.Prefix, w.seq, now.UTC().Format("20060102T150405Z"))
		f, err := os.OpenFile(filepath.Join(w.opts.Dir, w.name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // a file of an earlier capture into the same folder
		}
		if err != nil {
			return fmt.Errorf("capture writer: %w", err)
		}
		w.f = f
		break
	}
	w.opened, w.committed, w.packets = now, 0, 0
	w.sum.Reset()
	w.buf, w.ends = w.buf[:0], w.ends[:0]
	w.buf = appendSHB(w.buf, w.opts.App)
	for _, ifc := range w.opts.Interfaces {
		if ifc.SnapLen <= 0 {
			ifc.SnapLen = defaultSnapLen
		}
		w.buf = appendIDB(w.buf, ifc)
	}
	w.ends = append(w.ends, blockEnd{off: len(w.buf)})
	w.headerEnd = int64(len(w.buf))
	if len(w.secrets) > 0 {
		// One block with every key learnt so far: a rotated file decrypts on its own.
		var all []byte
		for _, s := range w.secrets {
			all = append(all, s.Data...)
		}
		w.buf = appendDSB(w.buf, capture.SecretsTLSKeyLog, all)
		w.ends = append(w.ends, blockEnd{off: len(w.buf)})
	}
	return nil
}

// WritePacket writes one frame captured on interface iface (an index into Interfaces), of
// unknown direction.
func (w *Writer) WritePacket(iface int, ts time.Time, origLen int, data []byte) error {
	return w.WritePacketFlags(iface, ts, origLen, 0, data)
}

// WritePacketFlags writes one frame with its direction and reception type, recorded in the
// block's epb_flags option (none when flags is 0).
func (w *Writer) WritePacketFlags(iface int, ts time.Time, origLen int, flags PacketFlags, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if iface < 0 || iface >= len(w.opts.Interfaces) {
		return fmt.Errorf("capture writer: packet for interface %d of %d", iface, len(w.opts.Interfaces))
	}
	start := len(w.pending)
	w.pending = appendEPB(w.pending, iface, ts, origLen, flags, data)
	w.held = append(w.held, heldPacket{start: start, end: len(w.pending), at: w.opts.Now(), size: len(data)})
	return w.release(w.opts.Now().Add(-w.opts.HoldBack))
}

// heldPacket is an encoded packet block waiting in the hold-back queue.
type heldPacket struct {
	start, end int
	at         time.Time
	size       int
}

// release moves held packets that arrived at or before cutoff (and the oldest ones beyond the
// memory bound) into the file buffer, rotating files as needed.
func (w *Writer) release(cutoff time.Time) error {
	for w.head < len(w.held) {
		h := w.held[w.head]
		if h.at.After(cutoff) && len(w.pending)-h.start <= maxHoldBytes {
			break
		}
		block := w.pending[h.start:h.end]
		if err := w.maybeRotate(int64(len(block))); err != nil {
			return err
		}
		w.buf = append(w.buf, block...)
		w.ends = append(w.ends, blockEnd{len(w.buf), true, h.size})
		w.packets++
		w.total.Packets++
		w.total.Bytes += int64(h.size)
		w.head++
		if len(w.buf) >= flushAt {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	switch {
	case w.head == len(w.held):
		w.pending, w.held, w.head = w.pending[:0], w.held[:0], 0
	case w.head > 1024 && w.head > len(w.held)/2:
		// Compact so a queue that never drains does not grow without bound.
		base := w.held[w.head].start
		n := copy(w.pending, w.pending[base:])
		w.pending = w.pending[:n]
		n = copy(w.held, w.held[w.head:])
		w.held = w.held[:n]
		for i := range w.held {
			w.held[i].start -= base
			w.held[i].end -= base
		}
		w.head = 0
	}
	return nil
}

// AddSecrets embeds secrets (for example new lines of an NSS key log) as a Decryption Secrets
// Block in the current file and remembers them for the files that follow.
func (w *Writer) AddSecrets(typ uint32, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if len(data) > maxSecretsBlock {
		return fmt.Errorf("capture writer: %d bytes of secrets exceed one block", len(data))
	}
	w.buf = appendDSB(w.buf, typ, data)
	w.ends = append(w.ends, blockEnd{off: len(w.buf)})
	if typ == capture.SecretsTLSKeyLog && w.secretBytes+len(data) <= maxReplaySecrets {
		w.secrets = append(w.secrets, capture.Secret{Type: typ, Data: append([]byte(nil), data...)})
		w.secretBytes += len(data)
	}
	if len(w.buf) >= flushAt {
		return w.flush()
	}
	return nil
}

// Tick flushes buffered blocks to the file and rotates by time even when no packet arrives. The
// capture loop calls it about once a second.
func (w *Writer) Tick() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if err := w.release(w.opts.Now().Add(-w.opts.HoldBack)); err != nil {
		return err
	}
	if err := w.maybeRotate(0); err != nil {
		return err
	}
	return w.flush()
}

// maybeRotate starts a new file when the current one is too old, or when adding a block of next
// bytes would take it past the size limit. A file always receives at least one packet, so a
// limit smaller than one packet still makes progress.
func (w *Writer) maybeRotate(next int64) error {
	size := w.committed + int64(len(w.buf))
	old := w.opts.RotateTime > 0 && w.opts.Now().Sub(w.opened) >= w.opts.RotateTime
	// The statistics blocks written at close count against the limit too.
	tail := int64(0)
	if w.opts.Stats != nil {
		tail = int64(len(w.opts.Interfaces)) * isbLen
	}
	full := next > 0 && w.opts.RotateSize > 0 && w.packets > 0 && size+next+tail > w.opts.RotateSize
	if !old && !full {
		return nil
	}
	if err := w.closeFile(); err != nil {
		return err
	}
	if err := w.open(); err != nil {
		return w.stop(err)
	}
	return nil
}

// flush writes the buffer. On a short write it cuts the file back to the last block that was
// written whole, so the file stays valid, and stops the writer.
func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	if err == nil {
		w.sum.Write(w.buf)
		w.committed += int64(n)
		w.buf, w.ends = w.buf[:0], w.ends[:0]
		return nil
	}
	keep, lost, lostBytes := 0, int64(0), int64(0)
	for _, e := range w.ends {
		switch {
		case e.off <= n:
			keep = e.off
		case e.packet:
			lost++
			lostBytes += int64(e.size)
		}
	}
	w.packets -= lost
	w.total.Packets -= lost
	w.total.Bytes -= lostBytes
	w.sum.Write(w.buf[:keep])
	w.committed += int64(keep)
	w.buf, w.ends = w.buf[:0], w.ends[:0]
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // the path is named once, here
	}
	werr := fmt.Errorf("writing %s at offset %d: %w", filepath.Join(w.opts.Dir, w.name), w.committed, cause)
	if terr := w.f.Truncate(w.committed); terr != nil {
		werr = fmt.Errorf("%w; cutting it back to %d bytes also failed: %v", werr, w.committed, terr)
	}
	if merr := w.finish(true, cause.Error()); merr != nil {
		werr = fmt.Errorf("%w; %v", werr, merr)
	}
	return w.stop(werr)
}

// stop makes err sticky and says what was left behind.
func (w *Writer) stop(err error) error {
	if IsDiskFull(err) {
		err = fmt.Errorf("capture stopped, disk full: %w; every finished file is listed in %s", err, filepath.Join(w.opts.Dir, ManifestName))
	} else {
		err = fmt.Errorf("capture stopped: %w", err)
	}
	w.err = err
	return err
}

// IsDiskFull reports whether err means the output device or quota is full.
func IsDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

// closeFile ends the current file: statistics blocks, flush, sync, hash, manifest.
func (w *Writer) closeFile() error {
	if w.opts.Stats != nil {
		now := w.opts.Now()
		for i := range w.opts.Interfaces {
			if st, ok := w.opts.Stats(i); ok {
				w.buf = appendISB(w.buf, i, now, w.start, st)
				w.ends = append(w.ends, blockEnd{off: len(w.buf)})
			}
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.finish(false, "")
		return w.stop(fmt.Errorf("syncing %s: %w", filepath.Join(w.opts.Dir, w.name), err))
	}
	return w.finish(false, "")
}

// finish closes the file, lists it in the manifest and reports it. A file cut back to less
// than its header is not a capture at all and is removed instead.
func (w *Writer) finish(truncated bool, why string) error {
	p := filepath.Join(w.opts.Dir, w.name)
	w.f.Close()
	w.f = nil
	if truncated && w.committed < w.headerEnd {
		os.Remove(p)
		w.manifest = append(w.manifest, ManifestEntry{Name: w.name, Note: fmt.Sprintf("removed: the disk filled before its header was written (%s)", why)})
		return w.writeManifest(true)
	}
	cf := ClosedFile{Name: w.name, Path: p, SHA256: hex.EncodeToString(w.sum.Sum(nil)), Size: w.committed, Packets: w.packets, Truncated: truncated}
	e := ManifestEntry{Name: w.name, SHA256: cf.SHA256}
	if truncated {
		cf.Note = fmt.Sprintf("truncated to its last whole block (%d bytes, %d packets) after: %s", w.committed, w.packets, why)
		e.Note = cf.Note
	}
	w.manifest = append(w.manifest, e)
	w.files = append(w.files, cf)
	w.total.Files++
	err := w.writeManifest(truncated)
	if w.opts.OnClose != nil {
		w.opts.OnClose(cf)
	}
	return err
}

// writeManifest replaces the manifest atomically: a reader sees the old or the new list, never
// half of one. After a disk-full error the reserved space is given back first.
func (w *Writer) writeManifest(diskTrouble bool) error {
	if diskTrouble {
		w.dropReserve()
	}
	final := filepath.Join(w.opts.Dir, ManifestName)
	if err := writeFileAtomic(final, FormatManifest(w.manifest)); err != nil {
		return fmt.Errorf("updating %s: %w", final, err)
	}
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// The rename is durable only once the folder itself is synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Close finishes the current file, updates the manifest and gives back the reserved space. It
// returns the error that stopped the writer, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.dropReserve()
	if w.err != nil {
		if errors.Is(w.err, ErrClosed) {
			return nil
		}
		return w.err
	}
	if err := w.release(farFuture); err != nil {
		return err
	}
	err := w.closeFile()
	if w.err == nil {
		w.err = ErrClosed
	}
	return err
}

// farFuture releases every held packet.
var farFuture = time.Unix(1<<62, 0)

// Files returns the files closed so far.
func (w *Writer) Files() []ClosedFile {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ClosedFile(nil), w.files...)
}

// Stats returns the running totals.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// Current returns the name of the file being written, or "" once the writer has stopped.
func (w *Writer) Current() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ""
	}
	return w.name
}
