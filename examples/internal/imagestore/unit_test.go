//go:build linux

package imagestore

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCommandLineKubernetesRules(t *testing.T) {
	ep, cmd := []string{"/ep"}, []string{"c1", "c2"}
	for _, c := range []struct {
		command, args, want []string
	}{
		{nil, nil, []string{"/ep", "c1", "c2"}},
		{nil, []string{"a"}, []string{"/ep", "a"}},
		{[]string{"/cmd"}, nil, []string{"/cmd"}},
		{[]string{"/cmd"}, []string{"a"}, []string{"/cmd", "a"}},
	} {
		if got := commandLine(ep, cmd, c.command, c.args); !slices.Equal(got, c.want) {
			t.Errorf("command %v args %v: %v, want %v", c.command, c.args, got, c.want)
		}
	}
	env, err := mergeEnv([]string{"PATH=/bin", "A=image"}, []string{"A=pod", "B=pod"})
	if err != nil || !slices.Equal(env, []string{"PATH=/bin", "A=pod", "B=pod"}) {
		t.Fatalf("mergeEnv: %v %v", env, err)
	}
	if _, err := mergeEnv(nil, []string{"=x"}); err == nil {
		t.Fatal("mergeEnv accepted =x")
	}
}

// validRootfsID accepts exactly what ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$
// does (the rule it replaced, too slow to compile at every start).
func TestValidRootfsID(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	ids := []string{"", "a", "A9", "0", "_a", ".a", "-a", "a_b.c-d", "a/b", "a b", "é", "a\n", "..",
		strings.Repeat("a", 128), strings.Repeat("a", 129), "x" + strings.Repeat("-", 127), "k8s_web_default_1"}
	for _, id := range ids {
		if got, want := validRootfsID(id), rule.MatchString(id); got != want {
			t.Errorf("validRootfsID(%q) = %v, the rule says %v", id, got, want)
		}
	}
}

// TestErrorKinds: every sentinel has a kind, and the kind gives the
// sentinel back (podkit-image reports a pull's error by kind to podrun).
func TestErrorKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range []error{ErrNotFound, ErrBadReference, ErrDigestMismatch, ErrCorruptLayer, ErrUnsafeLayer, ErrRegistry,
		ErrUnsupported, ErrBadConfig, ErrUnknownUser, ErrRootfs} {
		k := ErrorKind(&Error{Op: "pull", Ref: "x", Err: fmt.Errorf("wrapped: %w", s)})
		if k == "" || seen[k] || KindError(k) != s {
			t.Errorf("%v: kind %q (seen %v), back %v", s, k, seen[k], KindError(k))
		}
		seen[k] = true
	}
	if ErrorKind(errors.New("other")) != "" || KindError("other") != nil {
		t.Error("an error without a sentinel has a kind")
	}
}
