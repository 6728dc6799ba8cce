package remoteid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"time"
	"unicode"
	"unicode/utf8"

	"droneaudit/capture"
	"droneaudit/decoders/droneid"
)

// Kinds of drone element, as the shared expected decodes name them (corpus/README.md).
const (
	KindDJI        = "DJI-DroneID"
	KindODIDBeacon = "ODID-beacon-fa0bbc"
	KindODIDParrot = "ODID-beacon-903ae6"
	KindNANSDF     = "NAN-SDF"
	KindNANSync    = "NAN-sync-beacon"
	KindFrench     = "FR-TLV"
)

// Vendor element prefixes (OUI + type byte) of the dispatch table, over-the-air.md §3.
var (
	ouiASTM   = [3]byte{0xfa, 0x0b, 0xbc} // CEN's OUI, type 0x0D (ODC wifi.c asd_stan_oui)
	ouiParrot = [3]byte{0x90, 0x3a, 0xe6} // early opendroneid/Parrot variant, type 0x0D (WSD)
	ouiFrench = [3]byte{0x6a, 0x5c, 0x35} // type 0x01 (ODC frdid_wifi_build_beacon_frame)
	ouiWFA    = [3]byte{0x50, 0x6f, 0x9a} // Wi-Fi Alliance, type 0x13 = NAN
)

// Element is one drone element of a frame. Value aliases the packet data.
type Element struct {
	Kind   string
	Offset int // offset in the captured frame of the element id byte (action frames: the body)
	IELen  int // the vendor element's length byte; 0 for NAN action frames
	Value  []byte
	// Err is set when the element was recognised but could not be decoded in full.
	Err     error
	Counter uint8 // ODID message counter
	Pack    Pack
	NAN     NAN
	DJI     droneid.Record
	French  French
}

// Sighting is one management frame that carries at least one drone element. It is reused by the
// Scanner: copy what must outlive the next call.
type Sighting struct {
	Frame     int
	Offset    int64
	Time      time.Time
	FreqMHz   int
	HasSignal bool
	SignalDBm int
	// Injected marks a radiotap header without a Flags field: frames injected by the capturing
	// host itself (§8.3).
	Injected  bool
	Subtype   uint8
	DA, SA    [6]byte
	BSSID     [6]byte
	SeqCtrl   uint16
	SSID      string
	HasSSID   bool
	DSChannel int // from a DS Parameter Set element, 0 when absent
	// Trailing is how many bytes after the last whole element could not be walked (§2.2).
	Trailing int
	Elements []Element
}

// Frame outcomes other than a sighting.
var (
	// ErrBadFCS is returned for frames whose FCS does not match: they are skipped.
	ErrBadFCS = errors.New("802.11 frame with a bad FCS")
)

// Scanner finds drone elements in 802.11 frames. It reuses its buffers; not safe for concurrent use.
type Scanner struct {
	d   capture.Dot11
	s   Sighting
	els []Element
}

// Scan walks one captured frame. It returns (nil, nil) for frames without a drone element,
// ErrBadFCS for frames whose FCS fails, and a *capture.Dot11Error for frames it cannot walk.
func (sc *Scanner) Scan(p *capture.Packet) (*Sighting, error) {
	d := &sc.d
	if err := d.Decode(p.LinkType, p.Data); err != nil {
		return nil, err
	}
	if d.FCS == capture.FCSBad {
		return nil, ErrBadFCS
	}
	if d.Type != capture.Dot11TypeMgmt {
		return nil, nil
	}
	sc.els = sc.els[:0]
	var ssid []byte
	hasSSID, ds, trailing := false, 0, 0
	switch d.Subtype {
	case capture.Dot11Beacon, capture.Dot11ProbeResp:
		ies, ok := d.Elements()
		if !ok {
			return nil, nil
		}
		for {
			id, v, off, ok := ies.Next()
			if !ok {
				break
			}
			switch id {
			case 0:
				if !hasSSID {
					ssid, hasSSID = v, true
				}
			case 3:
				if len(v) == 1 {
					ds = int(v[0])
				}
			case 221:
				sc.vendor(v, off, d.Subtype == capture.Dot11Beacon)
			}
		}
		trailing = len(ies.Rest())
	case capture.Dot11Action:
		if IsNANAction(d.Body) {
			e := sc.next()
			e.Kind, e.Offset, e.Value = KindNANSDF, d.BodyOffset, d.Body
			e.Err = DecodeNAN(d.Body, &e.NAN)
		}
	}
	if len(sc.els) == 0 {
		return nil, nil
	}
	s := &sc.s
	*s = Sighting{Frame: p.Frame, Offset: p.Offset, Time: p.Time, Subtype: d.Subtype, DA: d.Addr1, SA: d.Addr2,
		BSSID: d.Addr3, SeqCtrl: d.SeqCtrl, HasSSID: hasSSID, DSChannel: ds, Trailing: trailing, Elements: sc.els}
	if hasSSID {
		s.SSID = ssidText(ssid)
	}
	if d.HasRadiotap {
		rt := &d.Radiotap
		s.FreqMHz, s.HasSignal, s.SignalDBm = int(rt.FreqMHz), rt.HasSignal, int(rt.SignalDBm)
		s.Injected = !rt.HasFlags
	}
	return s, nil
}

// ssidText renders an SSID: UTF-8 without control characters as text (SSIDs are often UTF-8),
// anything else as hex.
func ssidText(b []byte) string {
	if utf8.Valid(b) && !bytes.ContainsFunc(b, unicode.IsControl) {
		return string(b)
	}
	return hex.EncodeToString(b)
}

// next appends a cleared element, reusing storage.
func (sc *Scanner) next() *Element {
	if len(sc.els) < cap(sc.els) {
		sc.els = sc.els[:len(sc.els)+1]
	} else {
		sc.els = append(sc.els, Element{})
	}
	e := &sc.els[len(sc.els)-1]
	e.Kind, e.Err, e.Counter, e.IELen, e.Value = "", nil, 0, 0, nil
	return e
}

// vendor dispatches one vendor element (§3). Other vendors' elements are ignored.
func (sc *Scanner) vendor(v []byte, off int, beacon bool) {
	if len(v) < 4 {
		// A 3-byte DJI element still names its vendor: report it as a cut-short DroneID.
		if len(v) == 3 && [3]byte(v) == droneid.OUI {
			e := sc.next()
			e.Kind, e.Offset, e.IELen, e.Value = KindDJI, off, len(v), v
			e.Err = droneid.Decode(v, &e.DJI)
		}
		return
	}
	oui, typ := [3]byte(v[:3]), v[3]
	var e *Element
	switch {
	case oui == droneid.OUI:
		e = sc.next()
		e.Kind = KindDJI
		e.Err = droneid.Decode(v, &e.DJI)
	case (oui == ouiASTM || oui == ouiParrot) && typ == 0x0d:
		e = sc.next()
		e.Kind = KindODIDBeacon
		if oui == ouiParrot {
			e.Kind = KindODIDParrot
		}
		if len(v) < 5 {
			e.Err = ErrPackShort
			e.Pack = Pack{Violations: e.Pack.Violations[:0]}
		} else {
			e.Counter = v[4]
			e.Err = DecodePack(v[5:], &e.Pack)
		}
	case oui == ouiFrench && typ == 0x01:
		e = sc.next()
		e.Kind = KindFrench
		e.Err = DecodeFrench(v[4:], &e.French)
	case oui == ouiWFA && typ == 0x13 && beacon:
		e = sc.next()
		e.Kind = KindNANSync // links the transmitter to a NAN cluster; no position (§5.6)
	default:
		return
	}
	e.Offset, e.IELen, e.Value = off, len(v), v
}
