package deps

import (
	"os/exec"
	"strings"
	"testing"
)

// banned are imports that belong to live capture (capture/live) or flow reassembly
// (capture/flowtable) and must not reach a package
// that only reads files, even indirectly: they tie the decoders to Linux system calls and
// raw sockets. Add a row when another dependency moves out of root capture.
var banned = []struct{ path, why string }{
	{"golang.org/x/sys/unix", "system calls of AF_PACKET and interface ioctls"},
	{"golang.org/x/net/bpf", "kernel filter assembly"},
	{"github.com/gopacket/gopacket/afpacket", "AF_PACKET capture sockets"},
	{"github.com/gopacket/gopacket/reassembly", "TCP reassembly, which lives in capture/flowtable with the engine"},
}

// guarded are the packages checked: root capture, which every decoder imports for its packet
// and link types, and csvlog, a decoder that needs nothing of the network at all.
var guarded = []string{
	"droneaudit/capture",
	"droneaudit/decoders/csvlog",
}

func TestNoLiveCaptureDeps(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot list dependencies")
	}
	for _, pkg := range guarded {
		t.Run(pkg, func(t *testing.T) {
			graph := importGraph(t, gobin, pkg)
			for _, b := range banned {
				if _, ok := graph[b.path]; ok {
					t.Errorf("%s depends on %s (%s) through %s", pkg, b.path, b.why, strings.Join(chain(graph, pkg, b.path), " -> "))
				}
			}
		})
	}
}

// importGraph runs `go list -deps` on pkg and returns every dependency (pkg included) with the
// packages it imports directly.
func importGraph(t *testing.T, gobin, pkg string) map[string][]string {
	t.Helper()
	cmd := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", pkg)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			graph[f[0]] = f[1:]
		}
	}
	return graph
}

// chain finds one import path from `from` to `to` (breadth first, so the shortest), to name the
// import that has to go.
func chain(graph map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var path []string
			for ; p != ""; p = prev[p] {
				path = append([]string{p}, path...)
			}
			return path
		}
		for _, q := range graph[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return []string{from, "?", to}
}
