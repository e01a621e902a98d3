//go:build linux

package imagestore

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// ResolveUser resolves user ("", "name", "uid", "name:group", "uid:gid",
// "uid:group", "name:gid") inside the rootfs at root, the way Docker and
// the CRI do: a name must be in /etc/passwd (group in /etc/group); a
// numeric uid need not be, and then has gid 0 unless one is given; the
// additional groups are the primary gid followed by the /etc/group entries
// listing the user's name (as containerd sets them).
func ResolveUser(root, user string) (uid, gid uint32, groups []uint32, err error) {
	if user == "" {
		user = "0"
	}
	u, g, hasGroup := strings.Cut(user, ":")
	if u == "" || hasGroup && g == "" {
		return 0, 0, nil, &Error{Op: "user", Ref: user, Err: fmt.Errorf("%w: empty user or group", ErrBadConfig)}
	}
	passwd, err := readDB(root, "/etc/passwd")
	if err != nil {
		return 0, 0, nil, &Error{Op: "user", Ref: user, Err: err}
	}
	group, err := readDB(root, "/etc/group")
	if err != nil {
		return 0, 0, nil, &Error{Op: "user", Ref: user, Err: err}
	}
	name := ""
	if n, ok := parseID(u); ok {
		uid = n
		if e := find(passwd, 2, u); e != nil {
			name = e[0]
			gid, _ = parseID(e[3])
		}
	} else {
		e := find(passwd, 0, u)
		if e == nil {
			return 0, 0, nil, &Error{Op: "user", Ref: user, Err: fmt.Errorf("%w: no user %q in /etc/passwd", ErrUnknownUser, u)}
		}
		name = e[0]
		uid, _ = parseID(e[2])
		gid, _ = parseID(e[3])
	}
	if hasGroup {
		if n, ok := parseID(g); ok {
			gid = n
		} else if e := find(group, 0, g); e != nil {
			gid, _ = parseID(e[2])
		} else {
			return 0, 0, nil, &Error{Op: "user", Ref: user, Err: fmt.Errorf("%w: no group %q in /etc/group", ErrUnknownUser, g)}
		}
	}
	groups = []uint32{gid}
	if name != "" {
		for _, e := range group {
			for _, m := range strings.Split(e[3], ",") {
				if n, ok := parseID(e[2]); ok && m == name && !slices.Contains(groups, n) {
					groups = append(groups, n)
				}
			}
		}
	}
	return uid, gid, groups, nil
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// readDB reads a colon-separated database (passwd: 7 fields, group: 4)
// from inside root, resolving symlinks within it. A missing file is empty.
func readDB(root, path string) ([][]string, error) {
	p, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) < 4 {
			continue
		}
		out = append(out, fields)
	}
	return out, sc.Err()
}

// find returns the first entry whose field i equals v.
func find(db [][]string, i int, v string) []string {
	for _, e := range db {
		if e[i] == v {
			return e
		}
	}
	return nil
}
