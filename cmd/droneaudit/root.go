package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"droneaudit/internal/safetext"
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
in the working directory (or --config), DRONEAUDIT_* environment variables, and flags; flags win.
A key of the file can also stand under a command's name (fixes: {format: csv}) to apply to that
command only. Unknown keys and values that can never match are usage errors (exit 2).`,
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
	pf.String("tz", "", "time zone of times in text output, e.g. Europe/Brussels or UTC (default: the system's zone); machine formats keep UTC")
	for _, f := range commands {
		c := f()
		wrapArgs(c)
		root.AddCommand(c)
		if formats := commandFormats(c.Name()); formats != nil && c.Flags().Lookup("format") != nil {
			c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	root.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	root.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	root.RegisterFlagCompletionFunc("tz", cobra.FixedCompletions([]string{"Local", "UTC", "Europe/Brussels", "Europe/Amsterdam", "Europe/Paris"}, cobra.ShellCompDirectiveNoFileComp))
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
	path, _ := cmd.Flags().GetString("config")
	explicit := path != ""
	if !explicit {
		if _, err := os.Stat("droneaudit.yaml"); err == nil {
			path = "droneaudit.yaml"
		}
	}
	var file *viper.Viper
	cfgDir := ""
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return usageError("config %s: %v", path, err)
		}
		// The file alone, to tell its keys from flags and environment.
		file = viper.New()
		file.SetConfigFile(path)
		if err := file.ReadInConfig(); err != nil {
			return usageError("config %s: %v", path, err)
		}
		if err := checkConfigKeys(path, file.AllKeys(), knownKeys(cmd.Root())); err != nil {
			return err
		}
		if abs, err := filepath.Abs(path); err == nil {
			cfgDir = filepath.Dir(abs)
		}
	}
	cfg = v
	if err := setupLogging(cmd.ErrOrStderr(), v.GetString("log-level"), v.GetString("log-format")); err != nil {
		return err
	}
	for _, k := range unknownEnv(knownKeys(cmd.Root())) {
		slog.Warn("environment variable names no configuration key: ignored", "variable", k)
	}
	if err := applyCommandConfig(cmd, v, file, cfgDir); err != nil {
		return err
	}
	loc, err := loadLocation(v.GetString("tz"))
	if err != nil {
		return err
	}
	reportLocation = loc
	return nil
}

// setupLogging installs the log handler on w. In text form every value passes through safetext,
// like every other human-readable output: a file name in a log line cannot drive the terminal.
func setupLogging(w io.Writer, level, format string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return usageError("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		opts.ReplaceAttr = sanitizeAttr
		slog.SetDefault(slog.New(slog.NewTextHandler(w, opts)))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(w, opts)))
	default:
		return usageError("--log-format %q: want text or json", format)
	}
	return nil
}

// sanitizeAttr shows the control and format characters of a log value escaped.
func sanitizeAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); safetext.Needed(s) {
			a.Value = slog.StringValue(safetext.String(s))
		}
	case slog.KindAny:
		switch x := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(safetext.String(x.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(safetext.String(x.String()))
		}
	}
	return a
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
