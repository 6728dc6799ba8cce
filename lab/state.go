package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
}

func runStatePath(ap string) string { return filepath.Join(RunDir, "lab-"+ap+".json") }

// writeState writes the state file into the session folder and the run folder.
func writeState(p Plan) error {
	dir, _ := filepath.Abs(p.Dir)
	b, _ := json.MarshalIndent(State{PID: os.Getpid(), AP: p.AP, Dir: dir, Started: time.Now().UTC()}, "", "  ")
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
// taken everything down, at most wait.
func Down(s State, wait time.Duration) error {
	if err := syscall.Kill(s.PID, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("lab process %d is not running (stale state file for %s)", s.PID, s.AP)
		}
		return err
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if !alive(s.PID) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("lab process %d still running after %s", s.PID, wait)
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
