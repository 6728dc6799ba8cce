package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// commands holds the constructors of the subcommands; each command's file adds itself in init.
var commands []func() *cobra.Command

func addCommand(f func() *cobra.Command) { commands = append(commands, f) }

// errUsage wraps cobra's own flag and argument errors so that they exit with code 2.
var errUsage = errors.New("usage")

func isUsage(err error) bool {
	if errors.Is(err, errUsage) {
		return true
	}
	// cobra reports unknown subcommands with a plain error.
	return strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag")
}

func newRootCmd() *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:   "droneaudit",
		Short: "Find out what a drone system sends, to whom, and whether mission locations leave the device",
		Long: `droneaudit decodes captures and pilot logs of drone systems, finds every position they
carry, matches those positions against sensitive zones and gives a verdict against a policy.

Results go to stdout; logs and progress go to stderr. Configuration comes from droneaudit.yaml
in the working directory (or --config), DRONEAUDIT_* environment variables, and flags; flags win.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return setup(cmd, v)
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v (see '%s --help')", errUsage, err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.String("config", "", "configuration file (default ./droneaudit.yaml when present)")
	pf.String("log-level", "info", "log level: debug, info, warn, error")
	pf.String("log-format", "text", "log format on stderr: text or json")
	pf.Bool("no-progress", false, "never show a progress bar")
	for _, f := range commands {
		c := f()
		wrapArgs(c)
		root.AddCommand(c)
	}
	return root
}

// wrapArgs turns cobra's argument-count errors into usage errors.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return fmt.Errorf("%w: %v (see '%s --help')", errUsage, err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// cfg is the merged configuration of the running command: flags over environment over file.
var cfg *viper.Viper

func setup(cmd *cobra.Command, v *viper.Viper) error {
	v.SetEnvPrefix("DRONEAUDIT")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_", ".", "_"))
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return err
	}
	if err := v.BindPFlags(cmd.InheritedFlags()); err != nil {
		return err
	}
	if path, _ := cmd.Flags().GetString("config"); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return usageError("config %s: %v", path, err)
		}
	} else if _, err := os.Stat("droneaudit.yaml"); err == nil {
		v.SetConfigFile("droneaudit.yaml")
		if err := v.ReadInConfig(); err != nil {
			return fmt.Errorf("config droneaudit.yaml: %w", err)
		}
	}
	cfg = v
	return setupLogging(cmd.ErrOrStderr(), v.GetString("log-level"), v.GetString("log-format"))
}

func setupLogging(w io.Writer, level, format string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return usageError("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		slog.SetDefault(slog.New(slog.NewTextHandler(w, opts)))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(w, opts)))
	default:
		return usageError("--log-format %q: want text or json", format)
	}
	return nil
}

// oneOf checks an enumerated flag value.
func oneOf(flag, val string, allowed ...string) error {
	for _, a := range allowed {
		if val == a {
			return nil
		}
	}
	return usageError("--%s %q: want one of %s", flag, val, strings.Join(allowed, ", "))
}

// flagSet is a shorthand used by command files.
type flagSet = pflag.FlagSet
