//go:build linux

package nsjoin

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
)

// nsenterFlag is the nsenter(1) option that enters a kind.
func nsenterFlag(k Kind) string {
	switch k {
	case User:
		return "--user"
	case Mount:
		return "--mount"
	case Time:
		return "--time"
	}
	return ""
}

// wrapNsenter rewrites the command into `nsenter --user=... -- Path args`.
// nsenter opens the namespaces through /proc/<this process>/fd/<n> of
// duplicates the Cmd keeps open until Wait, so no namespace descriptor is
// ever inherited by the started program.
func (c *Cmd) wrapNsenter(kinds []Kind) error {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return &Error{Op: "start", Path: c.Path, Err: both(ErrNoNsenter, err)}
	}
	args := []string{"nsenter"}
	self := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/"
	dups := &Set{}
	for _, k := range kinds {
		d, err := c.Namespaces.Get(k).Dup()
		if err != nil {
			dups.Close()
			return err
		}
		dups.Add(d)
		args = append(args, nsenterFlag(k)+"="+self+strconv.Itoa(d.fd))
	}
	if cred := c.ec.SysProcAttr.Credential; cred != nil {
		if len(cred.Groups) > 0 {
			dups.Close()
			return &Error{Op: "start", Path: c.Path, Err: errors.New("supplementary groups cannot be set through nsenter(1)")}
		}
		args = append(args, "--setuid="+strconv.FormatUint(uint64(cred.Uid), 10),
			"--setgid="+strconv.FormatUint(uint64(cred.Gid), 10))
		c.ec.SysProcAttr.Credential = nil
	}
	if c.ec.Dir != "" {
		args = append(args, "--wd="+c.ec.Dir)
		c.ec.Dir = ""
	}
	args = append(args, "--", c.ec.Path)
	args = append(args, c.ec.Args[1:]...)
	c.ec.Path, c.ec.Args = nsenter, args
	c.dups = dups
	return nil
}
