package criimages

const (
	e2e   = "registry.k8s.io/e2e-test-images/"
	stage = "gcr.io/k8s-staging-cri-tools/"
)

// Spec describes one test image: everything else is the busybox base.
type Spec struct {
	// Refs are the suite's references; the same image is served under each.
	Refs       []string
	Entrypoint []string
	Cmd        []string
	User       string
	Env        []string
	// Applets are standin applets linked into the image: path -> applet
	// (the path's base name is the applet's: standin goes by argv[0]).
	Applets map[string]string
	// Setuid are standin applets installed as setuid-root copies, named
	// likewise.
	Setuid map[string]string
	// Files are extra regular files: path -> content.
	Files map[string]string
	// Passwd and Group lines are appended to the base's.
	Passwd, Group []string
}

// busybox's own image has no pgrep and ipcs applets in Debian's build; the
// suite runs both (ExecSync's timeout spec, the HostIPC specs).
var tools = map[string]string{"/usr/bin/pgrep": "pgrep", "/usr/bin/ipcs": "ipcs"}

// Catalog returns the images the suite pulls on Linux, for GOARCH arch.
func Catalog(arch string) []Spec {
	specs := []Spec{
		{Refs: []string{e2e + "busybox:1.29-2"}, Cmd: []string{"sh"}, Applets: tools},
		{Refs: []string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"}, Entrypoint: []string{"/pause"},
			Applets: map[string]string{"/pause": "pause"}},
		{Refs: []string{e2e + "nginx:1.14-2"}, Cmd: []string{"nginx", "-g", "daemon off;"},
			Applets: map[string]string{"/usr/sbin/nginx": "nginx", "/usr/bin/pgrep": "pgrep"}},
		{Refs: []string{stage + "hostnet-nginx-" + arch}, Cmd: []string{"nginx", "-g", "daemon off;"},
			Env: []string{"NGINX_PORT=12003"}, Applets: map[string]string{"/usr/sbin/nginx": "nginx"}},
		{Refs: []string{e2e + "httpd:2.4.39-4"}, Cmd: []string{"httpd-foreground"},
			Applets: map[string]string{"/usr/local/bin/httpd-foreground": "httpd-foreground"}},
		{Refs: []string{e2e + "nonewprivs:1.3"}, Cmd: []string{"/usr/local/bin/nonewprivs"},
			Setuid: map[string]string{"/usr/local/bin/nonewprivs": "nonewprivs"}},
		{Refs: []string{stage + "test-image-user-uid"}, User: "1002", Cmd: []string{"sh"}},
		{Refs: []string{stage + "test-image-user-username"}, User: "www-data", Cmd: []string{"sh"}},
		{Refs: []string{stage + "test-image-user-uid-group"}, User: "1003:1004", Cmd: []string{"sh"}},
		{Refs: []string{stage + "test-image-user-username-group"}, User: "www-data:1004", Cmd: []string{"sh"}},
		{Refs: []string{stage + "test-image-predefined-group"}, User: "1000", Cmd: []string{"sh"},
			Passwd: []string{"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh"},
			Group:  []string{"default-user:x:1000:", "group-defined-in-image:x:50000:default-user"}},
		{Refs: []string{stage + "test-image-tags:1", stage + "test-image-tags:2", stage + "test-image-tags:3"},
			Cmd: []string{"sh"}, Files: map[string]string{"/test-image-tags": ""}},
	}
	for _, name := range []string{"test-image-1:latest", "test-image-2:latest", "test-image-3:latest",
		"test-image-latest", "test-image-tag:test", "test-image-tag:all"} {
		file := name
		if t := tagOf(name); t != "" {
			file = name[:len(name)-len(t)-1]
		}
		specs = append(specs, Spec{Refs: []string{stage + name}, Cmd: []string{"sh"},
			Files: map[string]string{"/" + file: ""}})
	}
	return specs
}

// Unservable lists the suite's references no rebuilt image can answer,
// with the reason.
func Unservable() map[string]string {
	return map[string]string{
		stage + "test-image-digest@sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf": "pulled by an upstream digest: no image built here can have it",
	}
}

// tagOf returns the tag of ref, or "" when it has none.
func tagOf(ref string) string {
	for i := len(ref) - 1; i >= 0; i-- {
		switch ref[i] {
		case ':':
			return ref[i+1:]
		case '/':
			return ""
		}
	}
	return ""
}
