package podnet

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these inside
// a *ConfigError or an *Error, so errors.Is and errors.As work.
var (
	// ErrInvalidConfig: a Config, PodRef or AttachOptions field failed
	// validation, or the conflist does not parse. Nothing was run.
	ErrInvalidConfig = errors.New("invalid network configuration")
	// ErrPluginNotFound: a plugin of the conflist is in none of the
	// plugin directories.
	ErrPluginNotFound = errors.New("CNI plugin not found")
	// ErrAttached: the pod already has a cached attachment to this
	// network; Detach it first.
	ErrAttached = errors.New("pod is already attached to the network")
	// ErrAttach: CNI ADD failed; everything it did was rolled back with
	// DEL unless the error also wraps ErrRollback.
	ErrAttach = errors.New("CNI ADD failed")
	// ErrAddressesExhausted: the IPAM plugin has no address left.
	ErrAddressesExhausted = errors.New("no pod IP address left in the range")
	// ErrRollback: the DEL that undoes a failed ADD failed as well.
	ErrRollback = errors.New("rollback (CNI DEL) failed")
	// ErrDetach: CNI DEL failed on every attempt. The cached attachment
	// is kept so that a later Detach can try again.
	ErrDetach = errors.New("CNI DEL failed")
)

// ConfigError names the configuration field that failed validation, in the
// manner of os.PathError. Err wraps ErrInvalidConfig or ErrPluginNotFound.
type ConfigError struct {
	Field string // e.g. "Config.PluginDirs", "PodRef.ID", "plugins[1].type"
	Value string // the offending value, if short and printable
	Err   error
}

func (e *ConfigError) Error() string {
	s := "podnet: " + e.Field
	if e.Value != "" {
		s += " " + quoteShort(e.Value)
	}
	return s + ": " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Error describes a failed Attach or Detach.
type Error struct {
	Op       string // "attach" or "detach"
	Network  string // the conflist's name
	ID       string // the pod ID (CNI_CONTAINERID)
	NetNS    string // the network namespace path, if any
	Attempts int    // how many times the CNI command ran
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("podnet " + e.Op + " " + e.ID)
	if e.Network != "" {
		b.WriteString(" network " + e.Network)
	}
	if e.NetNS != "" {
		b.WriteString(" netns " + e.NetNS)
	}
	if e.Attempts > 1 {
		b.WriteString(" (" + strconv.Itoa(e.Attempts) + " attempts)")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
