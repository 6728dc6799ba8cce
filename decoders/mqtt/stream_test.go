package mqtt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/internal/netfixture"
)

// enc builds packets from the MQTT 3.1.1/5.0 field layouts, for fixtures the test controls.
type enc struct{ b []byte }

func (e *enc) str(s string) *enc {
	e.b = binary.BigEndian.AppendUint16(e.b, uint16(len(s)))
	e.b = append(e.b, s...)
	return e
}
func (e *enc) raw(b ...byte) *enc { e.b = append(e.b, b...); return e }

func packet(first byte, body []byte) []byte {
	out := []byte{first}
	n := len(body)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			break
		}
	}
	return append(out, body...)
}

func connect(level byte, id, user string) []byte {
	e := (&enc{}).str("MQTT").raw(level, 0xc2, 0, 60) // user+password+clean
	if level == 5 {
		e.raw(3, 0x21, 0, 10) // properties: receive maximum 10
	}
	e.str(id).str(user).str("secret")
	return packet(0x10, e.b)
}

func publish(level byte, topic string, payload []byte) []byte {
	e := (&enc{}).str(topic).raw(0, 1) // packet id 1 (QoS 1)
	if level == 5 {
		e.raw(2, 0x01, 1) // payload format indicator
	}
	e.raw(payload...)
	return packet(0x32, e.b)
}

func subscribe(level byte, topics ...string) []byte {
	e := (&enc{}).raw(0, 2)
	if level == 5 {
		e.raw(0)
	}
	for _, t := range topics {
		e.str(t).raw(1)
	}
	return packet(0x82, e.b)
}

func TestGeneratedStreamBothLevels(t *testing.T) {
	for _, level := range []byte{4, 5} {
		big := bytes.Repeat([]byte("x"), 3*MaxBuffered) // a PUBLISH larger than the buffer
		var s []byte
		s = append(s, connect(level, "pilot2-rc-5YSZK", "fh2user")...)
		s = append(s, publish(level, "thing/product/1581F5BKD225D00A0A12/osd", []byte(`{"data":{"latitude":22.9}}`))...)
		s = append(s, publish(level, "thing/product/1581F5BKD225D00A0A12/events", big)...)
		s = append(s, subscribe(level, "thing/product/+/services", "sys/product/+/status")...)
		for _, step := range []int{1, 3, 1000, len(s)} {
			var c Conn
			var got []string
			for off := 0; off < len(s); off += step {
				err := c.Feed(0, s[off:min(off+step, len(s))], func(p *Packet) {
					switch p.Type {
					case TypeConnect:
						got = append(got, fmt.Sprintf("connect %d %s %s %v", p.ProtocolLevel, p.ClientID, p.Username, p.HasPassword))
					case TypePublish:
						got = append(got, fmt.Sprintf("publish %s %d %v", p.Topic, len(p.Payload), p.Truncated))
					case TypeSubscribe:
						got = append(got, fmt.Sprintf("subscribe %v", p.Topics))
					}
				})
				if err != nil {
					t.Fatalf("level %d step %d: %v", level, step, err)
				}
			}
			want := []string{
				fmt.Sprintf("connect %d pilot2-rc-5YSZK fh2user true", level),
				"publish thing/product/1581F5BKD225D00A0A12/osd 26 false",
				fmt.Sprintf("publish thing/product/1581F5BKD225D00A0A12/events %d true", MaxPayloadKept),
				"subscribe [thing/product/+/services sys/product/+/status]",
			}
			if !slices.Equal(got, want) {
				t.Fatalf("level %d step %d:\n got %q\nwant %q", level, step, got, want)
			}
		}
	}
}

func TestMalformedStopsWithOffset(t *testing.T) {
	var c Conn
	s := append(connect(4, "a", "b"), 0x30, 0xff, 0xff, 0xff, 0xff, 0x01)
	err := c.Feed(0, s, nil)
	me, ok := err.(*Error)
	if !ok || me.Offset != int64(len(connect(4, "a", "b"))) {
		t.Fatalf("err %v", err)
	}
	if !LooksLike(connect(5, "x", "y")) || LooksLike([]byte("GET / HTTP/1.1\r\n")) {
		t.Fatal("LooksLike")
	}
}

// TestMosquittoClients records what the real mosquitto_pub and mosquitto_sub send to a real
// mosquitto broker through a recording TCP relay, and decodes it. It skips when the Debian
// packages mosquitto and mosquitto-clients are not installed.
func TestMosquittoClients(t *testing.T) {
	for _, bin := range []string{"mosquitto", "mosquitto_pub"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian packages mosquitto, mosquitto-clients)", bin)
		}
	}
	brokerPort := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	broker := exec.CommandContext(ctx, "mosquitto", "-p", strconv.Itoa(brokerPort))
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); broker.Wait() }()
	waitListen(t, brokerPort)

	for _, v := range []struct {
		flag  string
		level byte
	}{{"mqttv311", 4}, {"mqttv5", 5}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var up []byte
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			b, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(brokerPort))
			if err != nil {
				return
			}
			defer b.Close()
			go io.Copy(c, b)
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				mu.Lock()
				up = append(up, buf[:n]...)
				mu.Unlock()
				if err != nil {
					return
				}
				b.Write(buf[:n])
			}
		}()
		port := ln.Addr().(*net.TCPAddr).Port
		out, err := exec.CommandContext(ctx, "mosquitto_pub", "-V", v.flag, "-p", strconv.Itoa(port), "-i", "dock-"+v.flag,
			"-u", "fh2", "-P", "pw", "-q", "1", "-t", "thing/product/4TADKAQ000002J/osd", "-m", `{"data":{"latitude":22.907809968}}`).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v %s", err, out)
		}
		<-done
		ln.Close()
		var c Conn
		var topics, ids []string
		mu.Lock()
		err = c.Feed(0, up, func(p *Packet) {
			switch p.Type {
			case TypeConnect:
				ids = append(ids, p.ClientID+"/"+p.Username)
			case TypePublish:
				topics = append(topics, p.Topic+" "+string(p.Payload))
			}
		})
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if c.Level() != v.level || !slices.Equal(ids, []string{"dock-" + v.flag + "/fh2"}) ||
			!slices.Equal(topics, []string{`thing/product/4TADKAQ000002J/osd {"data":{"latitude":22.907809968}}`}) {
			t.Fatalf("%s: level %d ids %q topics %q", v.flag, c.Level(), ids, topics)
		}
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListen(t *testing.T, port int) {
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("broker did not listen")
}

func FuzzMQTT(f *testing.F) {
	f.Add(append(connect(5, "a", "b"), publish(5, "thing/product/x/osd", []byte("{}"))...))
	f.Add(append(connect(4, "a", "b"), subscribe(4, "a/#")...))
	f.Add([]byte{0x10, 0xff, 0xff, 0xff, 0x7f})
	f.Add(append(connect(4, "a", "b"), publish(4, "thing/product/SN0001/osd", []byte(`{"data":{"latitude":22.9,"longitude":113.7}}`))...))
	// Real traffic from the corpus captures: whatever they carry is a protocol's hostile input too.
	for _, s := range netfixture.CorpusPayloadSeeds(40, nil) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Conn
		half := len(b) / 2
		c.Feed(0, b[:half], func(p *Packet) {})
		c.Feed(0, b[half:], func(p *Packet) {
			if len(p.Payload) > MaxPayloadKept {
				t.Fatal("payload over the limit")
			}
		})
		// Fed whole or in pieces that the caller overwrites after each call, the stream yields the
		// same packets: Feed keeps no reference to the bytes it was given.
		// (A packet longer than MaxBuffered is read cut when fed in pieces.)
		whole := feedPackets(b, len(b)+1)
		for _, step := range []int{1, 7, half + 1} {
			if len(b) >= MaxBuffered {
				break
			}
			if got := feedPackets(b, step); got != whole {
				t.Fatalf("fed in %d-byte pieces:\n%s\nwhole:\n%s", step, got, whole)
			}
		}
		LooksLike(b)
		var rec decodertest.Sink
		fl := Net{}.NewFlow(decoders.Input{}, &rec)
		fl.Segment(decoders.Segment{Payload: b[:half]})
		fl.Segment(decoders.Segment{Payload: b[half:]})
		fl.Close()
		for _, x := range rec.Fixes {
			if !x.Valid() {
				t.Fatalf("invalid fix %v", x)
			}
		}
	})
}

// feedPackets feeds b to a Conn in pieces of step bytes, each a copy scribbled over after the
// call, and describes what it emits.
func feedPackets(b []byte, step int) string {
	var c Conn
	var out strings.Builder
	emit := func(p *Packet) {
		fmt.Fprintf(&out, "%d %x %d %d %q %q %q %q %v %q %v %q\n", p.Type, p.Flags, p.Offset, p.Length, p.ProtocolName,
			p.ClientID, p.Username, p.Topic, p.Truncated, p.Payload, p.HasPassword, p.Topics)
	}
	for i := 0; i < len(b); i += step {
		piece := append([]byte(nil), b[i:min(i+step, len(b))]...)
		if err := c.Feed(0, piece, emit); err != nil {
			fmt.Fprintf(&out, "error %v\n", err)
		}
		for j := range piece {
			piece[j] = 0xee
		}
	}
	return out.String()
}

func BenchmarkStream(b *testing.B) {
	var s []byte
	s = append(s, connect(5, "dock", "u")...)
	for i := 0; i < 100; i++ {
		s = append(s, publish(5, "thing/product/4TADKAQ000002J/osd", bytes.Repeat([]byte("y"), 500))...)
	}
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		var c Conn
		c.Feed(0, s, func(*Packet) {})
	}
}
