//go:build linux

package podnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
)

// Defaults used when a Config field is left empty.
var (
	// DefaultPluginDirs: Debian's containernetworking-plugins, then the
	// upstream release tarballs' location.
	DefaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	// DefaultConfDir is where conflists are looked up by name.
	DefaultConfDir = "/etc/cni/net.d"
	// DefaultCacheDir is libcni's cache (results/<network>-<ID>-<ifname>)
	// and, by convention, host-local's lease directory (networks/<name>).
	DefaultCacheDir = "/var/lib/cni"
)

const (
	defaultIfName      = "eth0"
	defaultDelAttempts = 3
	defaultDelBackoff  = 200 * time.Millisecond
)

// Config selects a conflist and how to run it. Exactly one of Name, Bytes
// and List gives the conflist.
type Config struct {
	// Name is the "name" of a conflist in ConfDir (default DefaultConfDir),
	// loaded the way libcni's LoadNetworkConf does (*.conflist, sorted).
	Name    string
	ConfDir string
	// Bytes is a conflist as JSON.
	Bytes []byte
	// List is a conflist as a Go value (see Default and BridgeConfList).
	List *ConfList

	// PluginDirs are searched in order for the plugin binaries (default
	// DefaultPluginDirs). Every entry must be an absolute path.
	PluginDirs []string
	// CacheDir is libcni's cache directory (default DefaultCacheDir). A
	// Network made after a crash must use the same one to Detach.
	CacheDir string
	// IfName is the pod's interface name (default "eth0").
	IfName string
	// DelAttempts is how often Detach runs a failing DEL (default 3);
	// DelBackoff is the wait before the second attempt, doubled after
	// each further one (default 200ms).
	DelAttempts int
	DelBackoff  time.Duration
}

// ConfList is a CNI network configuration list as a Go value. Plugins are
// the plugin configurations exactly as they appear in the JSON.
type ConfList struct {
	CNIVersion string           `json:"cniVersion"`
	Name       string           `json:"name"`
	Plugins    []map[string]any `json:"plugins"`
}

// Network is a validated Config, ready to attach pods. It holds no state
// of its own beyond the Config: every attachment lives in libcni's cache,
// so any number of Network values (in any number of processes) with the
// same Config see the same pods. It is safe for concurrent use.
type Network struct {
	cfg  Config
	list *libcni.NetworkConfigList
	cni  *libcni.CNIConfig
}

// New validates cfg, loads the conflist and checks that every plugin it
// names exists in PluginDirs. Nothing is run.
func New(cfg Config) (*Network, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	list, err := cfg.load()
	if err != nil {
		return nil, err
	}
	if err := checkList(list, cfg.PluginDirs); err != nil {
		return nil, err
	}
	return &Network{
		cfg:  cfg,
		list: list,
		cni:  libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.CacheDir, newExecer()),
	}, nil
}

// Name is the conflist's name.
func (n *Network) Name() string { return n.list.Name }

// Config is the Config n was made from, with defaults filled in.
func (n *Network) Config() Config { return n.cfg }

func invalid(field, value, format string, args ...any) error {
	return &ConfigError{Field: field, Value: value,
		Err: fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))}
}

func (c *Config) setDefaults() error {
	sources := 0
	for _, set := range []bool{c.Name != "", c.Bytes != nil, c.List != nil} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return invalid("Config", "", "exactly one of Name, Bytes and List must be set (%d are)", sources)
	}
	if c.ConfDir != "" && c.Name == "" {
		return invalid("Config.ConfDir", c.ConfDir, "only used with Name")
	}
	if c.Name != "" && c.ConfDir == "" {
		c.ConfDir = DefaultConfDir
	}
	if len(c.PluginDirs) == 0 {
		c.PluginDirs = append([]string(nil), DefaultPluginDirs...)
	}
	if c.CacheDir == "" {
		c.CacheDir = DefaultCacheDir
	}
	if c.IfName == "" {
		c.IfName = defaultIfName
	}
	if c.DelAttempts == 0 {
		c.DelAttempts = defaultDelAttempts
	}
	if c.DelBackoff == 0 {
		c.DelBackoff = defaultDelBackoff
	}
	return c.validate()
}

func (c *Config) validate() error {
	for i, dir := range append(append([]string(nil), c.PluginDirs...), c.CacheDir, c.ConfDir) {
		field := "Config.PluginDirs[" + fmt.Sprint(i) + "]"
		switch {
		case i == len(c.PluginDirs):
			field = "Config.CacheDir"
		case i == len(c.PluginDirs)+1:
			field = "Config.ConfDir"
			if dir == "" {
				continue
			}
		}
		if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
			return invalid(field, dir, "must be a clean absolute path")
		}
	}
	if err := validIfName(c.IfName); err != nil {
		return invalid("Config.IfName", c.IfName, "%v", err)
	}
	if c.DelAttempts < 1 || c.DelAttempts > 100 {
		return invalid("Config.DelAttempts", fmt.Sprint(c.DelAttempts), "must be 1..100")
	}
	if c.DelBackoff < 0 || c.DelBackoff > time.Minute {
		return invalid("Config.DelBackoff", c.DelBackoff.String(), "must be 0..1m")
	}
	return nil
}

// validIfName applies the kernel's rules (IFNAMSIZ, no '/', ':' or space).
func validIfName(name string) error {
	if name == "" || len(name) > 15 || name == "." || name == ".." {
		return errors.New("must be 1 to 15 bytes, and not \".\" or \"..\"")
	}
	for _, c := range []byte(name) {
		if c == '/' || c == ':' || c <= ' ' || c >= 0x7f {
			return errors.New("must not contain '/', ':', spaces or control bytes")
		}
	}
	return nil
}

// load parses the conflist from whichever source is set.
func (c *Config) load() (*libcni.NetworkConfigList, error) {
	field, raw := "Config.Bytes", c.Bytes
	switch {
	case c.Name != "":
		if _, err := os.Stat(c.ConfDir); err != nil {
			return nil, invalid("Config.ConfDir", c.ConfDir, "%v", err)
		}
		list, err := libcni.LoadNetworkConf(c.ConfDir, c.Name)
		if err != nil {
			return nil, invalid("Config.Name", c.Name, "%v", err)
		}
		return list, checkListShape("Config.Name", list)
	case c.List != nil:
		b, err := json.Marshal(c.List)
		if err != nil {
			return nil, invalid("Config.List", "", "%v", err)
		}
		field, raw = "Config.List", b
	}
	list, err := libcni.NetworkConfFromBytes(raw)
	if err != nil {
		return nil, invalid(field, "", "%v", err)
	}
	return list, checkListShape(field, list)
}

// checkListShape checks what libcni leaves to the plugins: a name that can
// be a file name component, a version, at least one plugin with a type.
func checkListShape(field string, list *libcni.NetworkConfigList) error {
	if list.Name == "" || list.Name != filepath.Base(list.Name) || list.Name[0] == '.' {
		return invalid(field+": name", list.Name, "must be a non-empty file name component")
	}
	if list.CNIVersion == "" {
		return invalid(field+": cniVersion", "", "must be set")
	}
	if len(list.Plugins) == 0 {
		return invalid(field+": plugins", "", "must hold at least one plugin")
	}
	for i, p := range list.Plugins {
		if p.Network == nil || p.Network.Type == "" {
			return invalid(fmt.Sprintf("%s: plugins[%d].type", field, i), "", "must be set")
		}
	}
	return nil
}

// checkList checks that every plugin binary exists.
func checkList(list *libcni.NetworkConfigList, dirs []string) error {
	for i, p := range list.Plugins {
		if _, err := invoke.FindInPath(p.Network.Type, dirs); err != nil {
			return &ConfigError{Field: fmt.Sprintf("plugins[%d].type", i), Value: p.Network.Type,
				Err: fmt.Errorf("%w in %v", ErrPluginNotFound, dirs)}
		}
	}
	return nil
}
