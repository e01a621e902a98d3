//go:build linux

package podnet

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// sweepMasquerade removes the NAT rules the bridge plugin's ipMasq made for
// the pod, which its DEL leaves behind when the network namespace is gone
// (it learns the pod's addresses from the namespace). The rules are the
// plugin's documented ones: a chain CNI-<sha512(network+ID)>, cut to 28
// bytes, and one POSTROUTING jump to it per pod address.
func sweepMasquerade(ctx context.Context, list *libcni.NetworkConfigList, id string) error {
	if !masquerades(list) {
		return nil
	}
	sum := sha512.Sum512([]byte(list.Name + id))
	chain := ("CNI-" + hex.EncodeToString(sum[:]))[:28]
	for _, tool := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		if err := sweepChain(ctx, tool, chain); err != nil {
			return fmt.Errorf("remove %s nat chain %s: %w", tool, chain, err)
		}
	}
	return nil
}

func masquerades(list *libcni.NetworkConfigList) bool {
	for _, p := range list.Plugins {
		var conf struct {
			IPMasq bool `json:"ipMasq"`
		}
		if p.Network.Type == "bridge" && json.Unmarshal(p.Bytes, &conf) == nil && conf.IPMasq {
			return true
		}
	}
	return false
}

func sweepChain(ctx context.Context, tool, chain string) error {
	if _, err := iptables(ctx, tool, "-t", "nat", "-S", chain); err != nil {
		return nil // no such chain: nothing was left behind
	}
	out, err := iptables(ctx, tool, "-t", "nat", "-S", "POSTROUTING")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		args := splitRule(line)
		if len(args) < 2 || args[0] != "-A" || args[len(args)-1] != chain {
			continue
		}
		args[0] = "-D"
		if _, err := iptables(ctx, tool, append([]string{"-t", "nat"}, args...)...); err != nil {
			return err
		}
	}
	if _, err := iptables(ctx, tool, "-t", "nat", "-F", chain); err != nil {
		return err
	}
	_, err = iptables(ctx, tool, "-t", "nat", "-X", chain)
	return err
}

func iptables(ctx context.Context, tool string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, append([]string{"-w"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// splitRule splits a line of `iptables -S` into arguments: words, with
// double-quoted words (in which \" and \\ are escapes) kept whole.
func splitRule(line string) []string {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args
}
