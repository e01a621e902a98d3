package kubeapi

import (
	"testing"

	"github.com/podkit/podkit/examples/internal/testutil"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestQuantityAsKubernetes: ParseQuantity takes exactly the strings
// apimachinery's resource.ParseQuantity takes, and gives the same value,
// rounded values, sign and canonical form; and compares as it does.
// (Decimal exponents beyond ±maxExponent are computed at the bound: the
// canonical form of such a quantity is the one difference.)
func TestQuantityAsKubernetes(t *testing.T) {
	corpus := []string{"0", "1", "-1", "+1", "250m", "0.5", ".5", "1.", ".", "-", "+", "00", "007", "1n", "0.1n", "1.5n",
		"1u", "1m", "1k", "1K", "1M", "1G", "1T", "1P", "1E", "2E", "1Ki", "1Mi", "1.5Gi", "1.Ki", ".Ki", "-1Ki", "1023Ki",
		"1024", "1000", "1500", "1.5k", "100Mi", "64Mi", "1e3", "1E3", "1e-3", "1e+3", "1.5e2", "1e", "1e-10", "1.e-10",
		"1ee3", "e3", "1 ", " 1", "1Mb", "1mi", "1.2.3", "12345678901234567890", "9223372036854775807", "9223372036854775808",
		"8Ei", "7Ei", "1e18", "1e19", "123456789n", "1000000000n", "0.000000001", "0.0000000001", "1.000000001",
		"3.14159", "-0.5", "-250m", "1Gi", "1024Mi", "1048576Ki", "0.5Ki", "1536", "1536Ki", "10e6", "5e-1", "1e0", "1E0"}
	corpus = append(corpus, testutil.RandomStrings(1, 20000, 1, 8, "0123456789.+-eEinumkKMGTPi")...)
	ref := MustParse("1")
	kref := resource.MustParse("1")
	for _, s := range corpus {
		q, err := ParseQuantity(s)
		kq, kerr := resource.ParseQuantity(s)
		if (err == nil) != (kerr == nil) {
			t.Errorf("ParseQuantity(%q): err %v, Kubernetes' %v", s, err, kerr)
			continue
		}
		if err != nil {
			continue
		}
		n, _ := splitQuantity(s)
		_, exp, _, _ := interpretSuffix(n.suffix)
		beyond := exp > maxExponent || exp < -maxExponent // computed at the bound: only String differs
		if got, want := q.String(), kq.String(); got != want && !beyond {
			t.Errorf("ParseQuantity(%q).String() = %q, Kubernetes' %q", s, got, want)
		}
		if q.Sign() != kq.Sign() || q.Cmp(ref) != kq.Cmp(kref) || q.IsZero() != kq.IsZero() {
			t.Errorf("ParseQuantity(%q): sign %d, cmp 1 %d, zero %v; Kubernetes' %d, %d, %v", s, q.Sign(), q.Cmp(ref), q.IsZero(),
				kq.Sign(), kq.Cmp(kref), kq.IsZero())
		}
		if v, ok := kq.AsInt64(); ok && v > -1<<53 && v < 1<<53 || kq.Cmp(resource.MustParse("1e15")) < 0 && kq.Cmp(resource.MustParse("-1e15")) > 0 {
			if q.Value() != kq.Value() || q.MilliValue() != kq.MilliValue() {
				t.Errorf("ParseQuantity(%q): value %d, milli %d; Kubernetes' %d, %d", s, q.Value(), q.MilliValue(), kq.Value(), kq.MilliValue())
			}
		}
	}
}

// TestQuantityJSON: a quantity decodes from a JSON string or number as
// Kubernetes' does, and null is zero.
func TestQuantityJSON(t *testing.T) {
	for _, in := range []string{`"64Mi"`, `2`, `0.5`, `" 1 "`, `null`, `"x"`, `true`} {
		var q Quantity
		var kq resource.Quantity
		err, kerr := q.UnmarshalJSON([]byte(in)), kq.UnmarshalJSON([]byte(in))
		if (err == nil) != (kerr == nil) || err == nil && (q.String() != kq.String()) {
			t.Errorf("UnmarshalJSON(%s) = %v %q; Kubernetes' %v %q", in, err, q.String(), kerr, kq.String())
		}
	}
}
