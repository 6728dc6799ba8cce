package live

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"

	"droneaudit/capture"
)

// CompileFilter turns a small subset of the tcpdump filter language into a classic BPF program
// for an Ethernet interface, without libpcap or cgo. Supported:
//
//	primitive  := ip | ip6 | arp | tcp | udp | icmp
//	            | [tcp|udp] [src|dst] port N
//	            | [src|dst] host A.B.C.D
//	term       := [not] primitive
//	expression := term { and term }
//
// so "udp port 53", "not port 22", "host 10.0.0.2 and tcp" work; "or", parentheses, IPv6 hosts,
// VLAN tags and IPv4 options beyond the header length are not handled (filter after capture
// with the audit instead). Offsets follow the Ethernet II, IPv4 (RFC 791), IPv6 (RFC 8200, no
// extension headers), TCP and UDP header layouts; the instruction set is Linux's classic BPF
// (https://www.kernel.org/doc/html/latest/networking/filter.html).
func CompileFilter(expr string, lt capture.LinkType) ([]bpf.RawInstruction, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, nil
	}
	if lt != capture.LinkEthernet {
		return nil, fmt.Errorf("filter %q: kernel filters are supported on Ethernet interfaces only, not %s", expr, lt)
	}
	terms, err := parseFilter(expr)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	var a bpfAsm
	for i, t := range terms {
		next := fmt.Sprintf("term%d", i+1)
		if t.not {
			a.prim(t.p, "reject", next)
		} else {
			a.prim(t.p, next, "reject")
		}
		a.label(next)
	}
	a.emit(bpf.RetConstant{Val: 0x40000}, "", "") // accept the whole packet
	a.label("reject")
	a.emit(bpf.RetConstant{Val: 0}, "", "")
	prog, err := a.resolve()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return bpf.Assemble(prog)
}

type filterPrim struct {
	proto string // "", ip, ip6, arp, tcp, udp, icmp
	dir   string // "", src, dst
	kind  string // "", port, host
	port  uint16
	host  [4]byte
}

type filterTerm struct {
	not bool
	p   filterPrim
}

func parseFilter(expr string) ([]filterTerm, error) {
	words := strings.Fields(strings.ToLower(expr))
	if len(words) > 64 {
		return nil, fmt.Errorf("too long: %d words", len(words))
	}
	var out []filterTerm
	for i := 0; i < len(words); {
		var t filterTerm
		if words[i] == "not" || words[i] == "!" {
			t.not = true
			i++
		}
		n, err := parsePrim(words[i:], &t.p)
		if err != nil {
			return nil, err
		}
		i += n
		out = append(out, t)
		if i < len(words) {
			if words[i] != "and" && words[i] != "&&" {
				return nil, fmt.Errorf("expected \"and\" before %q (only \"and\" and \"not\" are supported)", words[i])
			}
			i++
			if i == len(words) {
				return nil, fmt.Errorf("nothing after the last \"and\"")
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	return out, nil
}

// parsePrim reads one primitive from w and returns how many words it used.
func parsePrim(w []string, p *filterPrim) (int, error) {
	i := 0
	if i < len(w) {
		switch w[i] {
		case "ip", "ip6", "arp", "tcp", "udp", "icmp":
			p.proto = w[i]
			i++
		}
	}
	if i < len(w) && (w[i] == "src" || w[i] == "dst") {
		p.dir = w[i]
		i++
	}
	if i < len(w) && (w[i] == "port" || w[i] == "host") {
		p.kind = w[i]
		i++
		if i == len(w) {
			return 0, fmt.Errorf("%q needs a value", p.kind)
		}
		v := w[i]
		i++
		switch p.kind {
		case "port":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return 0, fmt.Errorf("port %q: want a number 0-65535", v)
			}
			p.port = uint16(n)
			if p.proto != "" && p.proto != "tcp" && p.proto != "udp" {
				return 0, fmt.Errorf("%q cannot qualify a port", p.proto)
			}
		case "host":
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return 0, fmt.Errorf("host %q: only IPv4 addresses are supported", v)
			}
			p.host = a.As4()
			if p.proto != "" && p.proto != "ip" {
				return 0, fmt.Errorf("%q cannot qualify a host", p.proto)
			}
		}
	} else if p.dir != "" {
		return 0, fmt.Errorf("%q must be followed by port or host", p.dir)
	}
	if i == 0 {
		if len(w) == 0 {
			return 0, fmt.Errorf("expression ends early")
		}
		return 0, fmt.Errorf("unknown word %q", w[0])
	}
	return i, nil
}

// Ethernet frame offsets.
const (
	bpfEtherType = 12
	bpfIP4Proto  = 14 + 9
	bpfIP4Frag   = 14 + 6
	bpfIP4Src    = 14 + 12
	bpfIP4Dst    = 14 + 16
	bpfIP6Next   = 14 + 6
	bpfIP6L4     = 14 + 40
)

// maxBPFInstructions is Linux's BPF_MAXINSNS for classic filters.
const maxBPFInstructions = 4096

var ipProtos = map[string]uint32{"tcp": 6, "udp": 17, "icmp": 1}

// bpfAsm collects instructions whose jumps name labels, resolved once the program is laid out.
type bpfAsm struct {
	ins    []bpf.Instruction
	jt, jf []string
	labels map[string]int
	n      int
}

func (a *bpfAsm) emit(in bpf.Instruction, t, f string) {
	a.ins = append(a.ins, in)
	a.jt = append(a.jt, t)
	a.jf = append(a.jf, f)
}

func (a *bpfAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

func (a *bpfAsm) fresh() string { a.n++; return fmt.Sprintf("l%d", a.n) }

// jeq jumps to t when A == v and to f otherwise; "" means the next instruction.
func (a *bpfAsm) jeq(v uint32, t, f string) {
	a.emit(bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, t, f)
}

func (a *bpfAsm) ld(off uint32, size int) { a.emit(bpf.LoadAbsolute{Off: off, Size: size}, "", "") }

// prim emits a test that goes to t when the primitive matches and to f when it does not.
func (a *bpfAsm) prim(p filterPrim, t, f string) {
	switch p.kind {
	case "host":
		ok := a.fresh()
		a.ld(bpfEtherType, 2)
		a.jeq(0x0800, ok, f)
		a.label(ok)
		addr := uint32(p.host[0])<<24 | uint32(p.host[1])<<16 | uint32(p.host[2])<<8 | uint32(p.host[3])
		if p.dir != "dst" {
			a.ld(bpfIP4Src, 4)
			if p.dir == "src" {
				a.jeq(addr, t, f)
				return
			}
			a.jeq(addr, t, "")
		}
		a.ld(bpfIP4Dst, 4)
		a.jeq(addr, t, f)
	case "port":
		v4, v6, v4ok, v6ok := a.fresh(), a.fresh(), a.fresh(), a.fresh()
		a.ld(bpfEtherType, 2)
		a.jeq(0x0800, v4, "")
		a.jeq(0x86dd, v6, f)
		a.label(v4)
		a.ld(bpfIP4Proto, 1)
		a.l4Proto(p.proto, v4ok, f)
		a.label(v4ok)
		// Only the first fragment carries the ports.
		a.ld(bpfIP4Frag, 2)
		a.emit(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff}, f, "")
		a.emit(bpf.LoadMemShift{Off: 14}, "", "") // X = IPv4 header length
		a.ports(p, func(off uint32) { a.emit(bpf.LoadIndirect{Off: 14 + off, Size: 2}, "", "") }, t, f)
		a.label(v6)
		a.ld(bpfIP6Next, 1)
		a.l4Proto(p.proto, v6ok, f)
		a.label(v6ok)
		a.ports(p, func(off uint32) { a.ld(bpfIP6L4+off, 2) }, t, f)
	default:
		a.ld(bpfEtherType, 2)
		switch p.proto {
		case "ip":
			a.jeq(0x0800, t, f)
		case "ip6":
			a.jeq(0x86dd, t, f)
		case "arp":
			a.jeq(0x0806, t, f)
		case "icmp":
			ok := a.fresh()
			a.jeq(0x0800, ok, f)
			a.label(ok)
			a.ld(bpfIP4Proto, 1)
			a.jeq(1, t, f)
		default: // tcp, udp
			v4, v6 := a.fresh(), a.fresh()
			a.jeq(0x0800, v4, "")
			a.jeq(0x86dd, v6, f)
			a.label(v4)
			a.ld(bpfIP4Proto, 1)
			a.jeq(ipProtos[p.proto], t, f)
			a.label(v6)
			a.ld(bpfIP6Next, 1)
			a.jeq(ipProtos[p.proto], t, f)
		}
	}
}

// l4Proto checks the IP protocol byte in A: the named one, or TCP or UDP when none is named.
func (a *bpfAsm) l4Proto(proto, t, f string) {
	if proto != "" {
		a.jeq(ipProtos[proto], t, f)
		return
	}
	a.jeq(6, t, "")
	a.jeq(17, t, f)
}

// ports compares the source and/or destination port (at offsets 0 and 2 of the transport
// header, the same for TCP and UDP) with p.port.
func (a *bpfAsm) ports(p filterPrim, load func(off uint32), t, f string) {
	v := uint32(p.port)
	if p.dir != "dst" {
		load(0)
		if p.dir == "src" {
			a.jeq(v, t, f)
			return
		}
		a.jeq(v, t, "")
	}
	load(2)
	a.jeq(v, t, f)
}

// resolve turns label names into the relative skips classic BPF uses (forward only, ≤ 255 for
// conditional jumps).
func (a *bpfAsm) resolve() ([]bpf.Instruction, error) {
	out := make([]bpf.Instruction, len(a.ins))
	skip := func(i int, name string) (uint32, error) {
		if name == "" {
			return 0, nil
		}
		to, ok := a.labels[name]
		if !ok {
			return 0, fmt.Errorf("internal: label %s missing", name)
		}
		d := to - i - 1
		if d < 0 || d > 255 {
			return 0, fmt.Errorf("expression too long for a classic BPF jump")
		}
		return uint32(d), nil
	}
	for i, in := range a.ins {
		t, err := skip(i, a.jt[i])
		if err != nil {
			return nil, err
		}
		f, err := skip(i, a.jf[i])
		if err != nil {
			return nil, err
		}
		switch x := in.(type) {
		case bpf.JumpIf:
			x.SkipTrue, x.SkipFalse = uint8(t), uint8(f)
			in = x
		case bpf.Jump:
			x.Skip = t
			in = x
		}
		out[i] = in
	}
	if len(out) > maxBPFInstructions {
		return nil, fmt.Errorf("expression too long: %d instructions", len(out))
	}
	return out, nil
}
