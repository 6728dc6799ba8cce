package main

import (
	"bufio"
	"log/slog"

	"github.com/spf13/cobra"

	"droneaudit/audit/requests"
)

func init() { addCommand(newRequestsCmd) }

func newRequestsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "requests [--format text|json] [--keylog FILE]... CAPTURE|FOLDER|-...",
		Short: "List every HTTP request and MQTT message in captures, decrypting TLS with key logs",
		Long: `requests reads pcap and pcapng captures and prints one row per HTTP request (HTTP/1.x with its
response, HTTP/2 and HTTP/3 per stream) and per MQTT PUBLISH (over TCP, and over WebSocket after an
HTTP/1.1 upgrade or an HTTP/2 extended CONNECT): flow, the input file and frame, time, server and
its name (TLS SNI or Host), method or topic, URL, status, the size and SHA-256 of the request and response
bodies, and what each body was found to be: the content codings undone (gzip, deflate, br,
zstd), the multipart parts or form fields, and each object's kind, size and SHA-256 (--format
json lists them). --extract DIR writes every whole object into DIR, named by its SHA-256, mode
0600. TLS sessions and QUIC connections are decrypted with the secrets of --keylog files (NSS key
log format, repeatable)
and of the capture's own Decryption Secrets Blocks; a session that cannot be decrypted (no keys,
wrong keys, joined mid-stream, an unsupported version) is listed in the notes with the reason
and nothing of it is guessed. Rows are in input order, then by time; the SHA-256 of each file
they name follows them. Captures rotated by the capture tool (tcpdump -C/-G, dumpcap ring
buffers), given in order, continue each other: a connection, its TLS session and its requests
run on from one file into the next.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json"); err != nil {
				return err
			}
			extract, _ := cmd.Flags().GetString("extract")
			if err := checkExtractDir(extract, append(append([]string(nil), args...), cfg.ConfigFileUsed())); err != nil {
				return err
			}
			ins, ilog, opts, err := openCaptures(cmd, "requests", args)
			if err != nil {
				return err
			}
			defer ins.Close()
			res, rerr := requests.Build(cmd.Context(), ins.Sources, opts, requests.Options{Extract: extract})
			if res == nil {
				return rerr
			}
			res.Notes = inputNotes(res.Notes, ilog)
			slog.Info("requests", "rows", len(res.Rows))
			// One buffer for the whole listing: the table writer writes a cell at a time.
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<16)
			if format == "json" {
				err = res.WriteJSON(out)
			} else {
				err = res.WriteText(out)
			}
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
			return inputsFailed(rerr, len(ins.Sources))
		},
	}
	c.Flags().String("format", "text", "output format: text or json")
	addKeylogFlag(c)
	addExtractFlag(c)
	return c
}
