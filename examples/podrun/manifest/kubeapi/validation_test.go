package kubeapi

import (
	"strings"
	"testing"

	"github.com/podkit/podkit/examples/internal/testutil"
	"k8s.io/apimachinery/pkg/util/validation"
)

// TestNameRulesAsKubernetes: each rule finds a value valid exactly when
// apimachinery's validation does.
func TestNameRulesAsKubernetes(t *testing.T) {
	corpus := []string{"", "a", "A", "-", ".", "..", "..a", ".a", "a.", "a..b", "a-b", "a_b", "a/b", "/b", "a/", "a/b/c",
		"example.com/MyName", "Example.com/x", "ex_ample.com/x", "my.name", "123-abc", "_x", "x_", "KEY_NAME", "key.name",
		"a b", "é", strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 253), strings.Repeat("a", 254),
		strings.Repeat("a.", 126) + "a", strings.Repeat("b", 250) + "/x", "x/" + strings.Repeat("a", 64)}
	corpus = append(corpus, testutil.RandomStrings(3, 20000, 0, 9, "aZ09-_./ é")...)
	for _, rule := range []struct {
		name      string
		ours, k8s func(string) []string
	}{
		{"IsDNS1123Subdomain", IsDNS1123Subdomain, validation.IsDNS1123Subdomain},
		{"IsConfigMapKey", IsConfigMapKey, validation.IsConfigMapKey},
		{"IsQualifiedName", IsQualifiedName, validation.IsQualifiedName},
	} {
		for _, v := range corpus {
			if got, want := len(rule.ours(v)) == 0, len(rule.k8s(v)) == 0; got != want {
				t.Errorf("%s(%q): valid %v, Kubernetes' %v (%q)", rule.name, v, got, want, rule.k8s(v))
			}
		}
	}
}
