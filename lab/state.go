package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// RunDir holds one state file per running lab, named after its AP interface, so `lab down`
// finds the lab without being told its session folder.
const RunDir = "/run/droneaudit"

// StateName is the state file in the session folder.
const StateName = "lab.json"

// State is what `lab down` needs to stop a running lab.
type State struct {
	PID     int       `json:"pid"`
	AP      string    `json:"ap"`
	Dir     string    `json:"dir"`
	Started time.Time `json:"started"`
	// Addrs are the addresses the lab put on the AP, for cleaning up after a lab that was
	// killed (SIGKILL, a crash) and could not take them away itself.
	Addrs []string `json:"addrs"`
	// Children are the pids of hostapd and dnsmasq. Pdeathsig ends them with the lab, but the
	// kernel clears it when a program changes its user (dnsmasq drops root), so a killed lab
	// can leave dnsmasq running.
	Children []int `json:"children"`
}

func runStatePath(ap string) string { return filepath.Join(RunDir, "lab-"+ap+".json") }

// writeState writes the state file into the session folder and the run folder.
func writeState(p Plan, addrs []string, children []int) error {
	dir, _ := filepath.Abs(p.Dir)
	b, _ := json.MarshalIndent(State{PID: os.Getpid(), AP: p.AP, Dir: dir, Started: time.Now().UTC(), Addrs: addrs, Children: children}, "", "  ")
	if err := os.WriteFile(p.Path(StateName), append(b, '\n'), 0o600); err != nil {
		return err
	}
	if err := os.MkdirAll(RunDir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(runStatePath(p.AP), append(b, '\n'), 0o600)
}

// removeState removes both state files.
func removeState(p Plan) {
	os.Remove(p.Path(StateName))
	os.Remove(runStatePath(p.AP))
}

// FindState reads the state of a running lab: from the session folder dir when given, else
// from the run folder for ap, else the only lab in the run folder.
func FindState(dir, ap string) (State, error) {
	var path string
	switch {
	case dir != "":
		path = filepath.Join(dir, StateName)
	case ap != "":
		path = runStatePath(ap)
	default:
		m, _ := filepath.Glob(filepath.Join(RunDir, "lab-*.json"))
		switch len(m) {
		case 0:
			return State{}, errors.New("no running lab found (" + RunDir + " has no state file)")
		case 1:
			path = m[0]
		default:
			return State{}, fmt.Errorf("%d labs are running (%s): name one with --ap IFACE or -w DIR", len(m), strings.Join(m, ", "))
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return State{}, fmt.Errorf("no running lab: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil || s.PID <= 1 {
		return State{}, fmt.Errorf("%s: not a lab state file", path)
	}
	return s, nil
}

// Down asks the lab process of s to stop (SIGTERM, as Ctrl-C would) and waits until it has
// taken everything down, at most wait. When the process no longer runs (it was killed and could
// not clean up), Down removes what it left: the nftables table, its addresses, the state files;
// cleaned is then true. Its children died with it (Pdeathsig).
func Down(s State, wait time.Duration) (cleaned bool, err error) {
	if !alive(s.PID) || !isLab(s.PID) {
		return true, cleanup(s)
	}
	if err := syscall.Kill(s.PID, syscall.SIGTERM); err != nil {
		return false, err
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if !alive(s.PID) {
			return false, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false, fmt.Errorf("lab process %d still running after %s", s.PID, wait)
}

// isLab reports whether pid is a droneaudit lab (not another program that got the pid after
// the lab died): its command line holds "lab" and "up".
func isLab(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "lab" && args[i+1] == "up" {
			return true
		}
	}
	return false
}

// cleanup removes what a dead lab left behind.
func cleanup(s State) error {
	var errs []error
	for _, pid := range s.Children {
		// Only a process that still runs with this session's configuration: the pid may have
		// been reused.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && alive(pid) && strings.Contains(string(b), s.Dir) {
			syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 50 && alive(pid); i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	if nft, err := FindProgram("nft"); err == nil {
		// A missing table is no error here: the lab may have removed it before it died.
		if out, err := exec.Command(nft, "list", "table", "inet", Table).CombinedOutput(); err == nil {
			errs = append(errs, run(nft, "delete", "table", "inet", Table))
		} else if !strings.Contains(string(out), "No such file") {
			errs = append(errs, fmt.Errorf("nft list table: %v: %s", err, strings.TrimSpace(string(out))))
		}
	}
	if ip, err := FindProgram("ip"); err == nil {
		for _, a := range s.Addrs {
			if out, err := exec.Command(ip, "addr", "del", a, "dev", s.AP).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot assign") {
				errs = append(errs, fmt.Errorf("ip addr del %s dev %s: %s", a, s.AP, strings.TrimSpace(string(out))))
			}
		}
	}
	os.Remove(filepath.Join(s.Dir, StateName))
	os.Remove(runStatePath(s.AP))
	return errors.Join(errs...)
}

// alive reports whether pid runs: a zombie (exited, not yet reaped by its parent) has finished
// its teardown and counts as stopped.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses (proc(5)).
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}
