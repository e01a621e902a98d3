package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// nginx serves a page on :80 (NGINX_PORT overrides) and writes its pid to
// /var/run/nginx.pid (NGINX_PID_FILE overrides), as the suite's nginx image does. Like nginx, the
// master retitles itself: its /proc/PID/cmdline reads "nginx: master
// process nginx ...", while its comm stays "nginx" (pidof finds it).
func nginx(args []string) int {
	const title = "nginx: master process"
	if !strings.HasPrefix(os.Args[0], title) {
		// Re-exec through the path it was started by (not /proc/self/exe,
		// which would rename comm to the target's base name).
		path, err := exec.LookPath(os.Args[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "nginx: %v\n", err)
			return 1
		}
		argv0 := strings.Join(append([]string{title, "nginx"}, args...), " ")
		err = syscall.Exec(path, []string{argv0}, os.Environ())
		fmt.Fprintf(os.Stderr, "nginx: re-exec: %v\n", err)
		return 1
	}
	pidFile := envOr("NGINX_PID_FILE", "/var/run/nginx.pid")
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o755); err == nil {
		_ = os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	}
	return serve(envOr("NGINX_PORT", "80"), "<h1>Welcome to nginx!</h1>\n", "nginx")
}

// httpd serves a page on :80 (HTTPD_PORT overrides) and logs a start line
// naming itself, as the suite's httpd image does.
func httpd(args []string) int {
	fmt.Fprintf(os.Stderr, "[core:notice] AH00094: Command line: 'httpd -D FOREGROUND'\n")
	return serve(envOr("HTTPD_PORT", "80"), "<html><body><h1>It works!</h1></body></html>\n", "httpd")
}

func serve(port, page, name string) int {
	srv := &http.Server{Addr: ":" + port, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	})}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case <-stop:
		_ = srv.Close()
		return 0
	case err := <-errc:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// pause waits for SIGTERM or SIGINT, reaping any child meanwhile.
func pause(args []string) int {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			return 0
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
	return 0
}

// nonewprivs prints its effective uid; the image installs it setuid root,
// so the uid shows whether no_new_privs kept the set-user-ID bit from
// taking effect.
func nonewprivs(args []string) int {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
	return 0
}
