//go:build linux

package podnet_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

// The test binary doubles as a CNI plugin, "flaky", for the failure paths:
// ADD passes prevResult through unless the config says failAdd; DEL fails
// while the number in the config's failDelFile is above zero, counting it
// down.
func init() {
	testharness.RegisterHelper("cni-flaky", func() int {
		var conf struct {
			CNIVersion  string          `json:"cniVersion"`
			PrevResult  json.RawMessage `json:"prevResult"`
			FailAdd     bool            `json:"failAdd"`
			FailDelFile string          `json:"failDelFile"`
		}
		stdin, _ := io.ReadAll(os.Stdin)
		_ = json.Unmarshal(stdin, &conf)
		fail := func(msg string) int {
			fmt.Printf(`{"cniVersion":%q,"code":999,"msg":%q}`, conf.CNIVersion, msg)
			return 1
		}
		switch os.Getenv("CNI_COMMAND") {
		case "VERSION":
			fmt.Print(`{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}`)
		case "ADD":
			if conf.FailAdd {
				return fail("flaky: ADD fails as configured")
			}
			os.Stdout.Write(conf.PrevResult)
		case "DEL":
			if conf.FailDelFile == "" {
				return 0
			}
			b, _ := os.ReadFile(conf.FailDelFile)
			n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if n > 0 {
				os.WriteFile(conf.FailDelFile, []byte(strconv.Itoa(n-1)), 0o600)
				return fail(fmt.Sprintf("flaky: DEL fails (%d more)", n-1))
			}
		}
		return 0
	})
}

// flakyPluginDir makes a plugin directory holding "flaky" and returns it.
func flakyPluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\n%s exec %s \"$@\"\n", testharness.HelperEnv("cni-flaky"), testharness.HelperBinary())
	if err := os.WriteFile(filepath.Join(dir, "flaky"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
