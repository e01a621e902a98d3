package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// pgrep [-f] [-l] PATTERN prints the pids of the processes whose name (or,
// with -f, whole command line) matches the extended regular expression
// PATTERN, itself excluded; it exits 1 when none matches, as procps' does.
func pgrep(args []string) int {
	full, long := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		for _, c := range args[0][1:] {
			switch c {
			case 'f':
				full = true
			case 'l':
				long = true
			default:
				fmt.Fprintf(os.Stderr, "pgrep: invalid option -- '%c'\n", c)
				return 2
			}
		}
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "pgrep: usage: pgrep [-fl] PATTERN")
		return 2
	}
	re, err := regexp.Compile(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgrep: %v\n", err)
		return 2
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgrep: %v\n", err)
		return 3
	}
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue // exited meanwhile
		}
		name := strings.TrimSuffix(string(comm), "\n")
		subject := name
		if full {
			cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil {
				continue
			}
			if s := strings.TrimRight(strings.ReplaceAll(string(cmdline), "\x00", " "), " "); s != "" {
				subject = s
			}
		}
		if !re.MatchString(subject) {
			continue
		}
		found = true
		if long {
			fmt.Printf("%d %s\n", pid, name)
		} else {
			fmt.Println(pid)
		}
	}
	if !found {
		return 1
	}
	return 0
}

// ipcs [-m] [-q] [-s] lists System V IPC objects of the caller's IPC
// namespace from /proc/sysvipc, in util-linux's layout.
func ipcs(args []string) int {
	want := map[string]bool{}
	for _, a := range args {
		switch a {
		case "-m":
			want["shm"] = true
		case "-q":
			want["msg"] = true
		case "-s":
			want["sem"] = true
		case "-a":
		default:
			fmt.Fprintf(os.Stderr, "ipcs: unsupported option %s\n", a)
			return 1
		}
	}
	all := len(want) == 0
	users := userNames()
	sections := []struct {
		kind, title, header string
		cols                func(f map[string]string) []string
	}{
		{"msg", "Message Queues", "key        msqid      owner      perms      used-bytes   messages    ",
			func(f map[string]string) []string { return []string{f["msqid"], f["perms"], f["cbytes"], f["qnum"]} }},
		{"shm", "Shared Memory Segments", "key        shmid      owner      perms      bytes      nattch     status      ",
			func(f map[string]string) []string { return []string{f["shmid"], f["perms"], f["size"], f["nattch"]} }},
		{"sem", "Semaphore Arrays", "key        semid      owner      perms      nsems     ",
			func(f map[string]string) []string { return []string{f["semid"], f["perms"], f["nsems"]} }},
	}
	for _, s := range sections {
		if !all && !want[s.kind] {
			continue
		}
		fmt.Printf("\n------ %s --------\n%s\n", s.title, s.header)
		for _, f := range sysvipc(s.kind) {
			key, _ := strconv.ParseInt(f["key"], 10, 64)
			c := s.cols(f)
			owner := users[f["uid"]]
			if owner == "" {
				owner = f["uid"]
			}
			perms, _ := strconv.ParseInt(f["perms"], 8, 64)
			fmt.Printf("0x%08x %-10s %-10s %-10o %-10s %-10s\n", uint32(key), c[0], owner, perms&0o777, c[2], strings.Join(c[3:], " "))
		}
	}
	fmt.Println()
	return 0
}

// sysvipc reads /proc/sysvipc/KIND into one map per object, keyed by the
// file's header names.
func sysvipc(kind string) []map[string]string {
	f, err := os.Open("/proc/sysvipc/" + kind)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil
	}
	header := strings.Fields(sc.Text())
	var out []map[string]string
	for sc.Scan() {
		vals := strings.Fields(sc.Text())
		m := map[string]string{}
		for i, h := range header {
			if i < len(vals) {
				m[h] = vals[i]
			}
		}
		out = append(out, m)
	}
	return out
}

// userNames maps uids to names from /etc/passwd.
func userNames() map[string]string {
	names := map[string]string{}
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return names
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); len(f) > 2 {
			names[f[2]] = f[0]
		}
	}
	return names
}
