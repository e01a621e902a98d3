//go:build linux

package nsjoin_test

import (
	"log"
	"os"

	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// Exec a probe into a running container the way a runtime's exec does:
// the container's namespaces (from its init, pid 4242 here), its
// capabilities, no_new_privs, user and open files limit, born in its
// cgroup v2 directory. Needs root.
func ExampleCmd_security() {
	ns, err := nsjoin.OpenSetPid(4242, nsjoin.Net, nsjoin.IPC, nsjoin.UTS, nsjoin.PID, nsjoin.Mount)
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	caps := []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"}
	cmd := nsjoin.Command(ns, "/bin/cat", "/proc/self/status")
	cmd.Stdout = os.Stdout
	cmd.IntoCgroup = "/sys/fs/cgroup/podkit/pod1/app"
	cmd.Security = &nsjoin.Security{
		UID: 1000, GID: 1000, Groups: []uint32{1000},
		Bounding: caps, Effective: caps, Permitted: caps,
		NoNewPrivs: true,
		Rlimits:    []nsjoin.Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 1024}},
	}
	// On cgroup v1 the forking thread joins the cgroup itself instead:
	// cmd.BeforeFork = func() error { return cgroup.JoinThread(cg) }
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}
}
