package tls

import (
	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// TLS 1.3 (RFC 8446): the key log gives the traffic secrets themselves; each direction moves
// from the handshake secret to the application secret after its Finished (§7.1), and a
// KeyUpdate moves it on to the next secret (§7.2). Sequence numbers start at 0 for each key.
// ChangeCipherSpec records (middlebox compatibility, §D.4) are skipped and not counted.

// maxTrialRecords bounds the records a direction skips while looking for the key that opens
// them: 0-RTT records the server rejected, or handshake records when the key log holds only
// the application secrets.
const maxTrialRecords = 1024

func (s *Session) process13(h *half, off int64, idx int, rec []byte) {
	switch rec[0] {
	case typeChangeCipherSpec:
		return
	case typeApplicationData:
		s.open13(h, off, idx, rec)
	case typeHandshake:
		if h.epoch != epochClear {
			h.skipped += int64(len(rec))
			s.event(h.dir, off, EventSkipped, "unprotected handshake record %d after the keys changed", idx)
			return
		}
		s.handshakeBytes(h, off, rec[recordHeaderLen:])
	case typeAlert:
		s.alert(h, off, rec[recordHeaderLen:])
	}
}

func (s *Session) noAAD() bool { return s.draft != 0 && s.draft < 25 }

// secrets13 returns the key log's secrets of the session, nil when it has none.
func (s *Session) secrets13() *tlskeys.Secrets {
	if s.secrets != nil {
		return s.secrets
	}
	if s.cfg.Keys == nil || s.ch == nil {
		return nil
	}
	if sec, ok := s.cfg.Keys.Lookup(s.ch.Random[:]); ok && sec.TLS13() {
		s.secrets = &sec
	}
	return s.secrets
}

// enter13 gives a direction the keys of an epoch.
func (s *Session) enter13(h *half, off int64, epoch int) {
	if h.dead {
		return
	}
	sec := s.secrets13()
	if sec == nil && s.noKeys() {
		s.stop(h, off, EventNoKeys, noKeyMaterial)
		return
	}
	if sec == nil {
		s.stop(h, off, EventNoKeys, "no TLS 1.3 secrets for client random %x", s.ch.Random)
		return
	}
	client := h.dir == netflow.ClientToServer
	hs, app, hsName, appName := sec.ServerHandshakeTrafficSecret, sec.ServerTrafficSecret0, "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"
	if client {
		hs, app, hsName, appName = sec.ClientHandshakeTrafficSecret, sec.ClientTrafficSecret0, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"
	}
	hashLen := s.st.hashLen()
	for _, v := range [][]byte{hs, app} {
		if v != nil && len(v) != hashLen {
			s.stop(h, off, EventWrongKeys, "a TLS 1.3 secret for client random %x is %d bytes; %s needs %d", s.ch.Random, len(v), s.st.name, hashLen)
			return
		}
	}
	secret, name := app, appName
	if epoch == epochHandshake {
		secret, name = hs, hsName
		if client && s.ch.EarlyData && len(sec.ClientEarlyTrafficSecret) == hashLen {
			h.early, _ = newAEAD13(s.st, sec.ClientEarlyTrafficSecret, s.noAAD())
		}
		if hs == nil && app != nil {
			// Only the application secret is known: skip the handshake records until one
			// opens with it.
			h.trial, _ = newAEAD13(s.st, app, s.noAAD())
			h.epoch, h.cipher = epochHandshake, nil
			s.event(h.dir, off, EventKeys, "%s %s; no %s, so handshake records are skipped until the application key opens one", VersionName(s.sh.version), s.st.name, hsName)
			return
		}
	}
	if secret == nil {
		s.stop(h, off, EventNoKeys, "the key log has no %s for client random %x", name, s.ch.Random)
		return
	}
	c, err := newAEAD13(s.st, secret, s.noAAD())
	if err != nil {
		s.stop(h, off, EventWrongKeys, "key setup: %v", err)
		return
	}
	if epoch == epochHandshake && h.dir == netflow.ServerToClient {
		s.event(h.dir, off, EventKeys, "%s %s, secrets from the key log", VersionName(s.sh.version), s.st.name)
	}
	h.cipher, h.seq, h.epoch, h.secret = c, 0, epoch, secret
}

// open13 decrypts a protected TLS 1.3 record.
func (s *Session) open13(h *half, off int64, idx int, rec []byte) {
	if h.epoch == epochClear {
		s.enter13(h, off, epochHandshake)
		if h.dead {
			h.skipped += int64(len(rec))
			return
		}
	}
	plain := takeRecordBuf()
	defer giveRecordBuf(plain)
	hdr, frag := rec[:recordHeaderLen], rec[recordHeaderLen:]
	if h.cipher != nil {
		if pt, err := h.cipher.open(plain, h.seq, hdr, frag); err == nil {
			h.seq++
			h.opened = true
			s.opened13(h, off, idx, pt, false)
			return
		}
	}
	if h.epoch == epochHandshake && !h.opened {
		if h.early != nil {
			if pt, err := h.early.open(plain, h.earlySq, hdr, frag); err == nil {
				h.earlySq++
				s.opened13(h, off, idx, pt, true)
				return
			}
		}
		if h.trial != nil {
			if pt, err := h.trial.open(plain, 0, hdr, frag); err == nil {
				h.cipher, h.secret, h.seq, h.epoch, h.trial = h.trial, h.trial.secret, 1, epochApplication, nil
				h.opened = true
				s.opened13(h, off, idx, pt, false)
				return
			}
		}
		if (h.trial != nil || (s.ch.EarlyData && h.dir == netflow.ClientToServer)) && h.trials < maxTrialRecords {
			h.trials++
			h.skipped += int64(len(rec))
			if h.trials == 1 {
				what := "a handshake record (no handshake secret)"
				if h.trial == nil {
					what = "0-RTT data (no CLIENT_EARLY_TRAFFIC_SECRET, or rejected by the server)"
				}
				s.event(h.dir, off, EventSkipped, "record %d skipped: %s", idx, what)
			}
			return
		}
	}
	epoch := "handshake"
	if h.epoch == epochApplication {
		epoch = "application"
	}
	s.stop(h, off, EventWrongKeys, "record %d does not open with the %s %s traffic secret of the key log (AEAD tag mismatch)", idx, dirWord(h.dir), epoch)
	h.skipped += int64(len(rec))
}

// opened13 removes the padding of TLSInnerPlaintext (RFC 8446 §5.4) and hands the content on by
// its real type.
func (s *Session) opened13(h *half, off int64, idx int, pt []byte, early bool) {
	h.appRecs++
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		s.event(h.dir, off, EventSkipped, "record %d has no content type (all padding)", idx)
		return
	}
	s.deliver(h, off, idx, pt[i], pt[:i], early)
}

// keyUpdate moves a direction to its next application traffic secret.
func (s *Session) keyUpdate(h *half, off int64, body []byte) {
	next := nextSecret13(s.st, h.secret)
	c, err := newAEAD13(s.st, next, s.noAAD())
	if err != nil {
		s.stop(h, off, EventWrongKeys, "key update: %v", err)
		return
	}
	h.cipher, h.seq, h.secret = c, 0, next
	s.sum.KeyUpdates++
	req := "not requested"
	if len(body) > 0 && body[0] == 1 {
		req = "update_requested"
	}
	s.event(h.dir, off, EventKeyUpdate, "%s traffic key updated (%s)", dirWord(h.dir), req)
}
