package tls

import (
	"droneaudit/netflow"
)

// TLS 1.0–1.2: keys come from the master secret (key log line CLIENT_RANDOM, or the session a
// resumed session continues), through the PRF of RFC 5246 §5 and the key block of §6.3. Each
// direction switches to them at its ChangeCipherSpec, with sequence numbers from 0.

// findMaster returns the master secret of the session and where it came from.
func (s *Session) findMaster() ([]byte, string) {
	if s.cfg.Keys == nil || s.ch == nil {
		return nil, ""
	}
	if sec, ok := s.cfg.Keys.Lookup(s.ch.Random[:]); ok && sec.Master != nil {
		return sec.Master, "key log (CLIENT_RANDOM)"
	}
	// A resumed session: the master secret of the session that issued the ticket or ID
	// (RFC 5077 §3.4, RFC 5246 §7.3). Some TLS stacks log nothing for a resumed session.
	if len(s.ch.SessionTicket) > 0 {
		if m, ok := s.cfg.Keys.Recall("ticket", s.ch.SessionTicket); ok {
			return m, "the session that issued the ticket"
		}
	}
	if s.sh != nil && len(s.sh.sessionID) > 0 {
		if m, ok := s.cfg.Keys.Recall("id", s.sh.sessionID); ok {
			return m, "the session with the same session ID"
		}
	}
	return nil, ""
}

// changeCipher12 switches a direction to the negotiated keys.
func (s *Session) changeCipher12(h *half, off int64) {
	if s.sh == nil || s.st == nil {
		s.stop(h, off, EventNoKeys, "ChangeCipherSpec before a usable ServerHello")
		return
	}
	if s.master == nil {
		m, from := s.findMaster()
		if m == nil && s.noKeys() {
			s.stop(h, off, EventNoKeys, noKeyMaterial)
			return
		}
		if m == nil {
			s.stop(h, off, EventNoKeys, "no master secret for client random %x (no CLIENT_RANDOM line, no earlier session to resume)", s.ch.Random)
			return
		}
		if len(m) != 48 {
			s.stop(h, off, EventWrongKeys, "master secret for client random %x is %d bytes, not 48", s.ch.Random, len(m))
			return
		}
		s.master = m
		s.event(h.dir, off, EventKeys, "%s %s, master secret from %s", VersionName(s.sh.version), s.st.name, from)
	}
	st, v := s.st, s.sh.version
	kb := keyBlock12(st, v, s.master, s.ch.Random[:], s.sh.random[:])
	ml, kl, il := st.macLen, st.keyLen, st.fixedIVLen(v)
	if st.kind != kindCBC {
		ml = 0
	}
	cmac, smac := kb[:ml], kb[ml:2*ml]
	ckey, skey := kb[2*ml:2*ml+kl], kb[2*ml+kl:2*ml+2*kl]
	civ, siv := kb[2*ml+2*kl:2*ml+2*kl+il], kb[2*ml+2*kl+il:2*ml+2*kl+2*il]
	mac, key, iv := cmac, ckey, civ
	if h.dir == netflow.ServerToClient {
		mac, key, iv = smac, skey, siv
	}
	var c recordCipher
	switch st.kind {
	case kindGCM:
		a, err := newAEAD(st, key)
		if err != nil {
			s.stop(h, off, EventWrongKeys, "key setup: %v", err)
			return
		}
		g := &gcm12{aead: a}
		copy(g.nonce[:4], iv)
		c = g
	case kindChaCha:
		a, err := newAEAD(st, key)
		if err != nil {
			s.stop(h, off, EventWrongKeys, "key setup: %v", err)
			return
		}
		ch := &chacha12{aead: a}
		copy(ch.iv[:], iv)
		c = ch
	case kindCBC:
		// encrypt_then_mac applies when both hellos carried it (RFC 7366 §2).
		etm := s.ch.EncryptThenMAC && s.sh.etm
		cb, err := newCBC(st, key, mac, iv, etm)
		if err != nil {
			s.stop(h, off, EventWrongKeys, "key setup: %v", err)
			return
		}
		c = cb
	}
	h.cipher, h.seq = c, 0
}

// open12 decrypts a protected TLS 1.0–1.2 record.
func (s *Session) open12(h *half, off int64, idx int, rec []byte) {
	plain := takeRecordBuf()
	defer giveRecordBuf(plain)
	pt, err := h.cipher.open(plain, h.seq, rec[:recordHeaderLen], rec[recordHeaderLen:])
	if err != nil {
		what := "the master secret"
		if !s.masterOK {
			what = "the master secret found for it"
		}
		s.stop(h, off, EventWrongKeys, "record %d (%s protected) does not open with %s: %v", idx, s.st.name, what, err)
		h.skipped += int64(len(rec))
		return
	}
	h.seq++
	h.appRecs++
	if !s.masterOK {
		s.masterOK = true
		if s.cfg.Keys != nil {
			if len(s.ticket) > 0 {
				s.cfg.Keys.Remember("ticket", s.ticket, s.master)
			}
			if len(s.sh.sessionID) > 0 {
				s.cfg.Keys.Remember("id", s.sh.sessionID, s.master)
			}
		}
	}
	s.deliver(h, off, idx, rec[0], pt, false)
}
