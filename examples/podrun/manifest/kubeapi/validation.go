package kubeapi

import (
	"strconv"
	"strings"
)

// The name rules of Kubernetes' API that the manifest checks. Each returns
// what is wrong with the value, nothing when it is valid; the rules are
// Kubernetes' (apimachinery's validation package), the words podkit's.

// IsDNS1123Subdomain checks a lowercase RFC 1123 subdomain: at most 253
// characters, dot-separated labels of [a-z0-9-] that start and end with an
// alphanumeric character (the name of a ConfigMap or Secret).
func IsDNS1123Subdomain(value string) []string {
	var msgs []string
	if len(value) > 253 {
		msgs = append(msgs, tooLong(253))
	}
	if !isSubdomain(value) {
		msgs = append(msgs, "must be a lowercase RFC 1123 subdomain: labels of lower case letters, digits and '-', "+
			"separated by '.', each starting and ending with a letter or digit (e.g. 'example.com')")
	}
	return msgs
}

// IsConfigMapKey checks a key of a ConfigMap or Secret: at most 253
// characters of [-._a-zA-Z0-9], not "." or "..", not starting with "..".
func IsConfigMapKey(value string) []string {
	var msgs []string
	if len(value) > 253 {
		msgs = append(msgs, tooLong(253))
	}
	if value == "" || strings.IndexFunc(value, func(r rune) bool { return !isAlnum(r) && r != '-' && r != '_' && r != '.' }) >= 0 {
		msgs = append(msgs, "must consist of letters, digits, '-', '_' or '.' (e.g. 'key.name', 'KEY_NAME' or 'key-name')")
	}
	switch {
	case value == "." || value == "..":
		msgs = append(msgs, "must not be "+strconv.Quote(value))
	case strings.HasPrefix(value, ".."):
		msgs = append(msgs, "must not start with '..'")
	}
	return msgs
}

// IsQualifiedName checks a qualified name (a label key): an optional
// DNS-1123 subdomain prefix and '/', then a name of at most 63 characters
// of [-A-Za-z0-9_.] that starts and ends with a letter or digit.
func IsQualifiedName(value string) []string {
	var msgs []string
	name := value
	switch parts := strings.Split(value, "/"); len(parts) {
	case 1:
	case 2:
		name = parts[1]
		if parts[0] == "" {
			msgs = append(msgs, "prefix part must not be empty")
		} else {
			for _, m := range IsDNS1123Subdomain(parts[0]) {
				msgs = append(msgs, "prefix part "+m)
			}
		}
	default:
		return []string{"must be a name with an optional DNS subdomain prefix and one '/' (e.g. 'example.com/MyName')"}
	}
	if len(name) > 63 {
		msgs = append(msgs, "name part "+tooLong(63))
	}
	if !isQualifiedNamePart(name) {
		msgs = append(msgs, "name part must consist of letters, digits, '-', '_' or '.', "+
			"and start and end with a letter or digit (e.g. 'MyName', 'my.name' or '123-abc')")
	}
	return msgs
}

func tooLong(n int) string { return "must be no more than " + strconv.Itoa(n) + " characters" }

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// isSubdomain: [a-z0-9]([-a-z0-9]*[a-z0-9])? labels joined by '.'.
func isSubdomain(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || !isLowerAlnum(label[0]) || !isLowerAlnum(label[len(label)-1]) {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isLowerAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

// isQualifiedNamePart: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9].
func isQualifiedNamePart(s string) bool {
	if s == "" || !isAlnum(rune(s[0])) || !isAlnum(rune(s[len(s)-1])) {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !isAlnum(r) && r != '-' && r != '_' && r != '.' }) < 0
}
