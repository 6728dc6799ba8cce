package main

import (
	"github.com/spf13/cobra"

	"droneaudit/decoders"
	"droneaudit/decoders/quic"
	"droneaudit/decoders/tlslayer"
)

// addKeylogFlag adds --keylog to a command that reads captures.
func addKeylogFlag(c *cobra.Command) {
	c.Flags().StringArray("keylog", nil, "NSS key log file (SSLKEYLOGFILE) whose secrets open the TLS sessions of the captures (repeatable); a capture's own Decryption Secrets Blocks are used without it")
}

// tlsLayers returns the TLS and QUIC layers with the secrets of the command's --keylog files. They are
// there without them too: they take the keys a pcapng capture carries in Decryption Secrets
// Blocks.
func tlsLayers(cmd *cobra.Command) ([]decoders.Unwrapper, error) {
	var paths []string
	if f := cmd.Flags().Lookup("keylog"); f != nil {
		paths, _ = cmd.Flags().GetStringArray("keylog")
	}
	l, err := tlslayer.FromFiles(paths)
	if err != nil {
		return nil, usageError("%v", err)
	}
	// QUIC shares the key log: its 1-RTT secrets are logged under the same client randoms.
	return []decoders.Unwrapper{l, quic.NewLayer(l.Keys())}, nil
}
