package decoders

// Code is the stable, machine-readable kind of a Note. Reports, tests and policies match on it,
// so a code never changes its spelling once released; a new kind of note gets a new code.
type Code string

// Codes for damage: bytes a decoder could not read as its format, reported with their offset.
const (
	// CodeJunk: bytes that do not frame as the format (noise between frames, an over-long line)
	// were skipped to the next readable record.
	CodeJunk Code = "junk"
	// CodeBadCRC: a frame or record fails its checksum and was not decoded.
	CodeBadCRC Code = "bad-crc"
	// CodeBadCheck: a DJI flight record's check byte does not match its seed.
	CodeBadCheck Code = "bad-check"
	// CodeTruncated: the input ends inside a record, message or element; what came before was read.
	CodeTruncated Code = "truncated"
	// CodeDamaged: a record was cut short inside the file; its complete fields were read.
	CodeDamaged Code = "damaged"
	// CodeMalformed: a protocol message or packet breaks its own grammar.
	CodeMalformed Code = "malformed"
	// CodeMalformedFrame: an 802.11 frame does not parse.
	CodeMalformedFrame Code = "malformed-frame"
	// CodeMalformedElement: an information element inside an 802.11 frame does not parse.
	CodeMalformedElement Code = "malformed-element"
	// CodeUndecodable: a frame passed its checksum but its payload could not be decoded.
	CodeUndecodable Code = "undecodable"
	// CodeUndecrypted: an encrypted session (QUIC) could not be opened: no keys for it, wrong
	// keys, or its handshake was not captured. Nothing of it is decoded as plaintext.
	CodeUndecrypted Code = "undecrypted"
	// CodeCorrupt: a ULog message header is corrupt; bytes were skipped to the next sync point.
	CodeCorrupt Code = "corrupt"
	// CodeCorruptDetails: a DJI flight record's details block is missing or out of range.
	CodeCorruptDetails Code = "corrupt-details"
	// CodeBadFmt: a DataFlash FMT message defines a format that cannot be used.
	CodeBadFmt Code = "bad-fmt"
	// CodeBadFormat: a ULog definition, flag-bits or subscription message is invalid.
	CodeBadFormat Code = "bad-format"
	// CodeBadSize: a ULog data message's size disagrees with its format.
	CodeBadSize Code = "bad-size"
	// CodeUnknownMsgID: a ULog data message names a msg_id without a subscription.
	CodeUnknownMsgID Code = "unknown-msg-id"
	// CodeAppendedCut: a ULog appended-data section is cut off or points outside the file.
	CodeAppendedCut Code = "appended-cut"
	// CodeSignedChain: the hash chain of a signed DataFlash container is broken or incomplete.
	CodeSignedChain Code = "signed-chain"
	// CodeShortRecord: a record holds fewer bytes than its layout needs; it was skipped.
	CodeShortRecord Code = "short-record"
	// CodeShortRows: CSV rows have fewer cells than the header.
	CodeShortRows Code = "short-rows"
	// CodeBadValue: a value where a position belongs is not one; the row or point was skipped.
	CodeBadValue Code = "bad-value"
	// CodeOutOfRange: a position outside WGS84 range was skipped.
	CodeOutOfRange Code = "out-of-range"
	// CodePartialPosition: a record has a latitude or a longitude but not both.
	CodePartialPosition Code = "partial-position"
	// CodeBadXML: an XML document (GPX, KML) stops being well-formed.
	CodeBadXML Code = "bad-xml"
	// CodeBadZip: a KMZ archive or one of its entries cannot be read.
	CodeBadZip Code = "bad-zip"
	// CodeTooLarge: an entry, token or element exceeds the decoder's bound (a zip bomb, say).
	CodeTooLarge Code = "too-large"
	// CodeTooManyEntries: an archive holds more entries than the decoder reads.
	CodeTooManyEntries Code = "too-many-entries"
	// CodeGap: bytes of a stream were lost in the capture; the rest of that direction is not decoded.
	CodeGap Code = "gap"
	// CodeSkipped: an input found in a folder was not read (not a format the command reads,
	// hidden, a special file, a link out of the tree).
	CodeSkipped Code = "skipped"
	// CodeNotRead: an input could not be opened or read at all.
	CodeNotRead Code = "not-read"
	// CodeTCPGaps: TCP payload bytes of a capture were never captured (holes in the sequence
	// space); decoding resumed after each hole.
	CodeTCPGaps Code = "tcp-gaps"
	// CodeTrailingBytes: bytes follow the last element or block the format defines.
	CodeTrailingBytes Code = "trailing-bytes"
	// CodeNotWritten: an object found in an input could not be written out (--extract).
	CodeNotWritten Code = "not-written"
	// CodePackRule: a Remote ID message pack breaks a rule of ASTM F3411 (order, duplicates).
	CodePackRule Code = "pack-rule"
	// CodeBroadcastAnomaly: a DJI DroneID broadcast carries values no real aircraft sends.
	CodeBroadcastAnomaly Code = "broadcast-anomaly"
	// CodeDJIBlankFrame: a DJI DroneID element is blank (a known firmware bug): no position.
	CodeDJIBlankFrame Code = "dji-blank-frame"
)

// Codes for TLS sessions the engine tried to open with the key log (decoders/tlslayer). A
// session that is not decrypted hands nothing on: these notes say why.
const (
	// CodeTLSNoKeys: the key log (files and the capture's Decryption Secrets Blocks) has no
	// secret for the session's client random.
	CodeTLSNoKeys Code = "tls-no-keys"
	// CodeTLSWrongKeys: the secrets found for the session do not open its records.
	CodeTLSWrongKeys Code = "tls-wrong-keys"
	// CodeTLSUnsupported: a protocol version (a TLS 1.3 draft, say) or cipher suite that is not
	// decrypted.
	CodeTLSUnsupported Code = "tls-unsupported"
	// CodeTLSNoHandshake: the session was joined mid-stream or its hellos were lost.
	CodeTLSNoHandshake Code = "tls-no-handshake"
	// CodeTLSPartial: records were decrypted, but some were lost (a hole, a cut record).
	CodeTLSPartial Code = "tls-partial"
	// CodeTLSNotTLS: a flow taken for TLS does not carry TLS records.
	CodeTLSNotTLS Code = "tls-not-tls"
)

// Codes for how a decoder read an input: facts about its layout that the auditor should know.
const (
	// CodeEmpty: the input is empty or holds nothing of its format (no header, no subtitle text).
	CodeEmpty Code = "empty"
	// CodeNoPositionColumns: a CSV header names no latitude and longitude columns.
	CodeNoPositionColumns Code = "no-position-columns"
	// CodeUnknownUnit: position columns with a unit the decoder does not know were skipped.
	CodeUnknownUnit Code = "unknown-unit"
	// CodeNoKML: a KMZ archive holds no .kml entry.
	CodeNoKML Code = "no-kml"
	// CodeUnsupported: the input declares a feature its specification says to refuse.
	CodeUnsupported Code = "unsupported"
	// CodeLegacyTlog: a tlog with little-endian timestamps (2012-era QGroundControl).
	CodeLegacyTlog Code = "legacy-tlog"
	// CodeTextRecords: a tlog holds one-byte console text records between its frames.
	CodeTextRecords Code = "text-records"
	// CodeRadiansSuspected: printed coordinates are radians (a firmware bug); they were converted.
	CodeRadiansSuspected Code = "radians-suspected"
	// CodeTimeZone: the input's times are local or of unstated zone; kept as written.
	CodeTimeZone Code = "time-zone"
	// CodeLayout: a DJI flight record's prefix and aux blocks disagree on where records start.
	CodeLayout Code = "layout"
	// CodeNoMarker: a DJI flight record lacks its end-of-records marker where expected.
	CodeNoMarker Code = "no-marker"
	// CodeRecordsEnd: where the records of a DJI flight record were found to end.
	CodeRecordsEnd Code = "records-end"
	// CodeV6Scrambling: whether a version 6 DJI flight record was read as scrambled or plain.
	CodeV6Scrambling Code = "v6-scrambling"
	// CodeNoTakeoffFix: a DJI flight record's details hold no take-off fix.
	CodeNoTakeoffFix Code = "no-takeoff-fix"
	// CodeNeedsKeys: records are encrypted with keys only the manufacturer hands out.
	CodeNeedsKeys Code = "needs-keys"
	// CodeKeyBlob: a wrapped key blob that a keychain request to the manufacturer would carry.
	CodeKeyBlob Code = "key-blob"
	// CodeEmbeddedImage: a picture embedded in a DJI flight record, with its EXIF position.
	CodeEmbeddedImage Code = "embedded-image"
	// CodeSignedContainer: a DataFlash log inside a signed container (signature not verified).
	CodeSignedContainer Code = "signed-container"
	// CodeSimulator: the log was written by a simulator, not an aircraft.
	CodeSimulator Code = "simulator"
	// CodeDropouts: the logger lost data while writing.
	CodeDropouts Code = "dropouts"
	// CodeAppendedData: the log has appended data sections, typically crash data.
	CodeAppendedData Code = "appended-data"
)

// Codes for records of a DJI flight record that hold no position, one note per kind with the
// first offset; each code is also the name of the counter that tallies them.
const (
	// CodeOSDNoFix: OSD records without a GPS fix.
	CodeOSDNoFix Code = "osd_no_fix"
	// CodeOSDBadPosition: OSD records with an out-of-range position.
	CodeOSDBadPosition Code = "osd_bad_position"
	// CodeHomeNotSet: HOME records saying the home point is not set yet.
	CodeHomeNotSet Code = "home_not_set"
	// CodeHomeNoFix: HOME records without a usable position.
	CodeHomeNoFix Code = "home_no_fix"
	// CodeAppGPSNoFix: APP_GPS records without a usable phone position.
	CodeAppGPSNoFix Code = "app_gps_no_fix"
	// CodeRCGPSNoFix: RC_GPS records without a usable position.
	CodeRCGPSNoFix Code = "rc_gps_no_fix"
)

// Codes for what an input reveals.
const (
	// CodeIdentity: a serial number, board id or other value that identifies an aircraft,
	// controller or account; Attrs holds it.
	CodeIdentity Code = "identity"
	// CodeExposure: what a reader of an on-device file learns without any key. Decoders report
	// it through Sink.Exposure; the code is how an Exposure reads as a Note.
	CodeExposure Code = "exposure"
)
