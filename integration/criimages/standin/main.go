// Command standin is a static multi-call program that plays, inside the CRI
// validation suite's test images, the few programs the suite observes and
// Debian's busybox lacks: nginx and httpd (an HTTP server on :80), pause,
// nonewprivs (prints its effective uid; installed setuid root), pgrep and
// ipcs. The applet is chosen by the name it is run as (argv[0]'s base name),
// or by the first argument when run as "standin".
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

var applets = map[string]func(args []string) int{
	"nginx":            nginx,
	"httpd-foreground": httpd,
	"httpd":            httpd,
	"pause":            pause,
	"nonewprivs":       nonewprivs,
	"pgrep":            pgrep,
	"ipcs":             ipcs,
}

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if name == "standin" && len(args) > 0 {
		name, args = args[0], args[1:]
	}
	if f := applets[firstWord(name)]; f != nil {
		os.Exit(f(args))
	}
	fmt.Fprintf(os.Stderr, "standin: unknown applet %q\n", name)
	os.Exit(127)
}

// firstWord turns nginx's retitled argv[0] ("nginx: master process ...")
// back into the applet name.
func firstWord(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' || s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}
