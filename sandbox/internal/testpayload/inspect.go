package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// inspect prints what the start-path differential test compares: the
// mount table, /dev, masked paths, credentials and security, limits,
// cgroups, namespaces, hostname, environment and working directory. Each
// line is "section: value".
func inspect() {
	p := func(sec string, v ...any) { fmt.Println(sec+":", fmt.Sprint(v...)) }
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p("mount", l)
	}
	ents, _ := os.ReadDir("/dev")
	for _, e := range ents {
		var st unix.Stat_t
		name := "/dev/" + e.Name()
		if err := unix.Lstat(name, &st); err != nil {
			p("dev", name, " ", err)
			continue
		}
		link, _ := os.Readlink(name)
		p("dev", fmt.Sprintf("%s mode=%o rdev=%d:%d uid=%d gid=%d link=%q", name, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Uid, st.Gid, link))
	}
	for _, f := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/acpi", "/proc/scsi", "/sys/firmware", "/proc/sys", "/proc/sysrq-trigger"} {
		var st unix.Stat_t
		err := unix.Stat(f, &st)
		w := unix.Access(f, unix.W_OK)
		p("path", fmt.Sprintf("%s err=%v mode=%o rdev=%d:%d writable=%v", f, err, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), w == nil))
	}
	b, _ = os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"Cap", "NoNewPrivs", "Seccomp", "Uid", "Gid", "Groups", "NSpid", "NSpgid"} {
			if strings.HasPrefix(l, k) {
				p("status", l)
			}
		}
	}
	b, _ = os.ReadFile("/proc/self/limits")
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p("limit", l)
	}
	b, _ = os.ReadFile("/proc/self/cgroup")
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p("cgroup", l)
	}
	ns, _ := filepath.Glob("/proc/self/ns/*")
	sort.Strings(ns)
	for _, n := range ns {
		l, _ := os.Readlink(n)
		p("ns", filepath.Base(n), " ", l)
	}
	h, _ := os.Hostname()
	p("hostname", h)
	env := os.Environ()
	sort.Strings(env)
	p("env", strings.Join(env, " "))
	wd, _ := os.Getwd()
	p("cwd", wd)
	p("ids", fmt.Sprintf("pid=%d ppid=%d sid=%d pgid=%d umask=%o", os.Getpid(), os.Getppid(), getsid(), unix.Getpgrp(), umask()))
	p("userns", userns())
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		_ = unix.Fstat(fd, &st)
		p("fd", fmt.Sprintf("%d type=%o", fd, st.Mode&unix.S_IFMT))
	}
}

// userns says whether a child of this process may be born in a user
// namespace of its own: the kernel refuses one to a chrooted process, so
// the container's root must be its mount namespace's root, as seen by
// the kernel.
func userns() string {
	cmd := exec.Command("/proc/self/exe", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
	if err := cmd.Run(); err != nil {
		return err.Error()
	}
	return "ok"
}

// escape climbs out of the process's root (a second chroot leaves the
// working directory outside the new root, and ".." is followed from
// there) and prints what it finds at the top, one name a line.
func escape() {
	check(os.MkdirAll("/tmp/escape", 0o755))
	check(unix.Chroot("/tmp/escape"))
	for range 64 {
		check(unix.Chdir(".."))
	}
	check(unix.Chroot("."))
	ents, err := os.ReadDir("/")
	check(err)
	for _, e := range ents {
		fmt.Println(e.Name())
	}
}

// nestedPivot does what a container runtime inside the container does:
// in a mount namespace of its own (a child: a Go process cannot unshare
// one), a tmpfs becomes the root by pivot_root.
func nestedPivot(inner bool) {
	if !inner {
		cmd := exec.Command("/proc/self/exe", "nested-pivot", "inner")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		check(cmd.Run())
		return
	}
	check(unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""))
	check(os.MkdirAll("/tmp/newroot", 0o755))
	check(unix.Mount("tmpfs", "/tmp/newroot", "tmpfs", 0, ""))
	check(os.Mkdir("/tmp/newroot/old", 0o755))
	check(os.WriteFile("/tmp/newroot/mark", nil, 0o644))
	check(unix.PivotRoot("/tmp/newroot", "/tmp/newroot/old"))
	check(unix.Chdir("/"))
	check(unix.Unmount("/old", unix.MNT_DETACH))
	_, err := os.Stat("/mark")
	check(err)
	fmt.Println("pivoted")
}

func umask() int {
	m := unix.Umask(0)
	unix.Umask(m)
	return m
}

func getsid() int {
	s, _ := unix.Getsid(0)
	return s
}
