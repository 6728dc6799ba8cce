package engine

// hashAhead starts hashing the input on a goroutine of its own (HashFirst).
func (op *opened) hashAhead() {
	in := op.in
	in.shaReady = make(chan struct{})
	go func() {
		if op.gz != nil {
			in.shaAhead, in.shaErr = op.gz.hashStored()
		} else {
			in.shaAhead, in.shaErr = op.hashAll()
		}
		close(in.shaReady)
	}()
}

// hashedAhead waits for the hashing hashAhead started and records its outcome on the input.
func (op *opened) hashedAhead() error {
	in := op.in
	<-in.shaReady
	if in.shaErr != nil {
		return in.shaErr
	}
	in.SHA256 = in.shaAhead
	return nil
}
