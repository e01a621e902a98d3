package kubeapi

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Format is how a Quantity was written, which its canonical form keeps.
type Format string

// The quantity formats.
const (
	DecimalExponent Format = "DecimalExponent" // 12e6
	BinarySI        Format = "BinarySI"        // 12Mi
	DecimalSI       Format = "DecimalSI"       // 12M
)

// ErrQuantity is the error of a string that is not a quantity.
var ErrQuantity = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")

// Quantity is a Kubernetes resource quantity ("250m", "64Mi", "1e3"): an
// exact number, rounded away from zero to a billionth as Kubernetes
// rounds it, and the format it was written in. The zero Quantity is 0.
type Quantity struct {
	v      *big.Rat // nil: zero
	format Format
	s      string // as written, where Kubernetes keeps it as its String
}

// maxExponent bounds the decimal exponents a quantity is computed with:
// 10^40 is far past any int64, and a larger exponent would only cost
// memory (1e999999999 is a valid quantity). Only String differs from
// Kubernetes' beyond it.
const maxExponent = 40

var (
	nano      = big.NewInt(1_000_000_000)
	maxBinary = new(big.Rat).SetInt64(math.MaxInt64)
)

// ParseQuantity parses s as Kubernetes does: a signed decimal number
// and a suffix (n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e/E and an
// exponent).
func ParseQuantity(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, ErrQuantity
	}
	if s == "0" {
		return Quantity{v: new(big.Rat), format: DecimalSI, s: s}, nil
	}
	n, ok := splitQuantity(s)
	if !ok {
		return Quantity{}, ErrQuantity
	}
	base, exp, format, ok := interpretSuffix(n.suffix)
	if !ok {
		return Quantity{}, errors.New("unable to parse quantity's suffix")
	}
	exact, keep := n.exact(base, exp, format)
	if !exact && !n.digits {
		return Quantity{}, errors.New("unable to parse numeric part of quantity")
	}
	v, _ := new(big.Rat).SetString(n.num + "." + n.denom + "0")
	if base == 2 {
		v.Mul(v, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(exp))))
	} else {
		v.Mul(v, pow10(max(min(exp, maxExponent), -maxExponent)))
	}
	if v.Sign() != 0 { // up to the next billionth, away from zero
		n := new(big.Int).Mul(v.Num(), nano)
		q, r := new(big.Int).QuoRem(n, v.Denom(), new(big.Int))
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		v.SetFrac(q, nano)
	}
	if format == BinarySI && v.Cmp(maxBinary) > 0 {
		v.Set(maxBinary)
	}
	if n.neg {
		v.Neg(v)
	}
	q := Quantity{v: v, format: format}
	if keep {
		q.s = s
	}
	return q, nil
}

// quantityText is a quantity string cut up as Kubernetes' parser cuts it.
type quantityText struct {
	neg        bool
	num, denom string // the digits before the point (leading zeros gone, "0" if none) and after it
	suffix     string
	digits     bool // any digit before the suffix
}

// splitQuantity cuts s into its sign, the digits before and after the
// point, and the suffix. Like Kubernetes' parser it takes "1." and ".5",
// and even "." or "-" where its fast path applies (see exact).
func splitQuantity(s string) (quantityText, bool) {
	var n quantityText
	pos := 0
	if s[0] == '-' || s[0] == '+' {
		n.neg, pos = s[0] == '-', 1
	}
	digits := func() string {
		start := pos
		for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' {
			pos++
		}
		return s[start:pos]
	}
	num := digits()
	if pos < len(s) && s[pos] == '.' {
		pos++
		n.denom = digits()
	}
	n.digits = num != "" || n.denom != ""
	if n.num = strings.TrimLeft(num, "0"); n.num == "" {
		n.num = "0"
	}
	start := pos
	for pos < len(s) && strings.IndexByte("eEinumkKMGTP", s[pos]) >= 0 {
		pos++
	}
	if pos < len(s) && (s[pos] == '-' || s[pos] == '+') {
		pos++
	}
	digits()
	n.suffix = s[start:]
	return n, pos == len(s)
}

// exact reports whether Kubernetes' parser takes its exact int64 path for
// n (which needs no digit at all), and whether it then keeps the string as
// written as the quantity's String.
func (n quantityText) exact(base, exp int, format Format) (exact, keep bool) {
	shifted := n.num + n.denom
	if base == 2 {
		bits := len(n.num) + int(float32(exp)*3/10) + 1
		if n.denom != "" || bits > 15 {
			return false, false
		}
		v, err := strconv.ParseInt(shifted, 10, 64)
		if err != nil || v > math.MaxInt64>>exp {
			return false, false
		}
		return true, exp%10 == 0 && v&7 != 0
	}
	scale := exp - len(n.denom)
	if len(shifted) > 18 || scale < -9 {
		return false, false
	}
	return true, scale%3 == 0 && !strings.HasSuffix(shifted, "000") && shifted[0] != '0'
}

var decimalSuffixes = map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
var binarySuffixes = map[string]int{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

// interpretSuffix gives a suffix's base and exponent; a decimal exponent
// is an int32, as Kubernetes keeps it.
func interpretSuffix(s string) (base, exp int, format Format, ok bool) {
	if e, ok := decimalSuffixes[s]; ok {
		return 10, e, DecimalSI, true
	}
	if e, ok := binarySuffixes[s]; ok {
		return 2, e, BinarySI, true
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		e, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil {
			return 0, 0, DecimalExponent, false
		}
		return 10, int(int32(e)), DecimalExponent, true
	}
	return 0, 0, DecimalExponent, false
}

func pow10(e int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(e, -e))), nil)
	if e < 0 {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

// MustParse is ParseQuantity for constants: it panics on an error.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic("kubeapi: cannot parse quantity " + strconv.Quote(s) + ": " + err.Error())
	}
	return q
}

// NewQuantity is the integer n in format f.
func NewQuantity(n int64, f Format) *Quantity {
	return &Quantity{v: new(big.Rat).SetInt64(n), format: f}
}

func (q Quantity) rat() *big.Rat {
	if q.v == nil {
		return new(big.Rat)
	}
	return q.v
}

// IsZero reports whether q is 0.
func (q Quantity) IsZero() bool { return q.v == nil || q.v.Sign() == 0 }

// Sign is -1, 0 or 1 as q is negative, zero or positive.
func (q Quantity) Sign() int { return q.rat().Sign() }

// Cmp compares q with r: -1, 0 or 1.
func (q Quantity) Cmp(r Quantity) int { return q.rat().Cmp(r.rat()) }

// Value is q rounded up to an integer (away from zero), saturated to
// int64.
func (q Quantity) Value() int64 { return q.scaled(1) }

// MilliValue is q in thousandths, rounded as Value is.
func (q Quantity) MilliValue() int64 { return q.scaled(1000) }

func (q Quantity) scaled(by int64) int64 {
	v := q.rat()
	n := new(big.Int).Mul(v.Num(), big.NewInt(by))
	quo, rem := new(big.Int).QuoRem(n, v.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		quo.Add(quo, big.NewInt(int64(v.Sign())))
	}
	switch {
	case quo.IsInt64():
		return quo.Int64()
	case quo.Sign() > 0:
		return math.MaxInt64
	}
	return math.MinInt64
}

// String is q in Kubernetes' canonical form: the largest suffix of its
// format (a power of 1000, or of 1024 for an integer of at least 1024 in
// BinarySI) that leaves an integer.
func (q Quantity) String() string {
	if q.s != "" {
		return q.s
	}
	v := q.rat()
	if v.Sign() == 0 {
		return "0"
	}
	if q.format == BinarySI && v.IsInt() && new(big.Int).Abs(v.Num()).Cmp(big.NewInt(1024)) >= 0 {
		m, k := new(big.Int).Set(v.Num()), 0
		for r := new(big.Int); k < 6; k++ {
			if _, r = new(big.Int).QuoRem(m, big.NewInt(1024), r); r.Sign() != 0 {
				break
			}
			m.Quo(m, big.NewInt(1024))
		}
		return m.String() + []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}[k]
	}
	// v is a whole number of billionths: m * 10^e, e from -9 up by 3.
	m := new(big.Int).Quo(new(big.Int).Mul(v.Num(), nano), v.Denom())
	e := -9
	for thousand, r := big.NewInt(1000), new(big.Int); ; e += 3 {
		if _, r = new(big.Int).QuoRem(m, thousand, r); r.Sign() != 0 {
			break
		}
		m.Quo(m, thousand)
	}
	if q.format == DecimalExponent {
		if e == 0 {
			return m.String()
		}
		return m.String() + "e" + strconv.Itoa(e)
	}
	for s, x := range decimalSuffixes {
		if x == e {
			return m.String() + s
		}
	}
	return m.String() + "e" + strconv.Itoa(e)
}

// UnmarshalJSON takes a quantity as a JSON string or number; null is 0.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*q = Quantity{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	p, err := ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*q = p
	return nil
}

// MarshalJSON writes the canonical form as a JSON string.
func (q Quantity) MarshalJSON() ([]byte, error) { return json.Marshal(q.String()) }
