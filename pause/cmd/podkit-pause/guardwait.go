//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guardWaitFD is the read end of the manager's pipe, as for the guard.
const guardWaitFD = 3

// guardWait is the stand-in for a sandbox manager's guard (sandbox's
// DieWithManager): a small process that costs the manager a fraction of a
// re-execution of its own binary. It reads the manager's guard messages
// from fd 3 and keeps those of the sandboxes still registered; "bye" ends
// it. When the pipe ends without one (the manager died), it writes the
// kept messages into a memfd on fd 3 and executes the manager's binary
// (exeFD, opened by the manager) with argv, which replays them as if it
// had been the guard all along and tears those sandboxes down.
//
// readFD (0 for none) holds messages already read from fd 3, read first:
// the bare stand-in (bare_linux_*.s) only collects the messages, and
// hands over to this function when they fill its buffer or the manager
// died without a "bye".
func guardWait(exeFD, readFD int, argv []string) int {
	kept := map[string][][]byte{} // sandbox dir -> its messages, in order
	var order []string
	var src io.Reader = rawFD(guardWaitFD) // no *os.File: fd 3 is replaced before the exec
	if readFD > 0 {
		syscall.CloseOnExec(readFD)
		src = io.MultiReader(rawFD(readFD), src)
	}
	sc := bufio.NewScanner(src)
	for sc.Scan() {
		var m struct{ Op, Dir string }
		line := bytes.Clone(sc.Bytes())
		if json.Unmarshal(line, &m) != nil {
			continue
		}
		switch m.Op {
		case "bye":
			return 0
		case "del":
			delete(kept, m.Dir)
		default:
			if _, ok := kept[m.Dir]; !ok {
				order = append(order, m.Dir)
			}
			kept[m.Dir] = append(kept[m.Dir], line)
		}
	}
	if len(kept) == 0 {
		return 0
	}
	var log bytes.Buffer
	for _, dir := range order {
		for _, line := range kept[dir] {
			log.Write(line)
			log.WriteByte('\n')
		}
		delete(kept, dir) // a dir added again after a del is written once
	}
	if err := handOver(exeFD, argv, log.Bytes()); err != nil {
		say(2, "podkit-pause: guard: "+err.Error()+"\n")
	}
	return 1
}

// handOver puts log on fd 3 and executes exeFD; it returns only on error.
func handOver(exeFD int, argv []string, log []byte) error {
	fd, err := unix.MemfdCreate("podkit-guard-log", unix.MFD_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("memfd_create", err)
	}
	for len(log) > 0 {
		n, err := unix.Write(fd, log)
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		log = log[n:]
	}
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		return os.NewSyscallError("lseek", err)
	}
	if err := unix.Dup3(fd, guardWaitFD, 0); err != nil { // without O_CLOEXEC
		return os.NewSyscallError("dup3", err)
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(os.Environ())
	if err != nil {
		return err
	}
	empty := []byte{0}
	_, _, errno := syscall.Syscall6(unix.SYS_EXECVEAT, uintptr(exeFD), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return os.NewSyscallError("execveat", errno)
}

// rawFD reads a descriptor with read(2), outside Go's poller.
type rawFD int

func (fd rawFD) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), b)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
