// Command testpayload is the tiny static program the sandbox tests run as
// container processes (and as a stand-in pause). It is built CGO-free and
// copied into a throw-away root filesystem, so no image or network is needed.
//
// Usage: testpayload <command> [args...]; see the switch in main.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testpayload command [args]")
		os.Exit(2)
	}
	args := os.Args[2:]
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch os.Args[1] {
	case "true":
	case "exit":
		n, _ := strconv.Atoi(arg(0))
		os.Exit(n)
	case "pause":
		pause()
	case "sleep":
		sleepForever()
	case "hostname":
		h, _ := os.Hostname()
		fmt.Println(h)
	case "serve":
		serve(arg(0))
	case "get":
		get(arg(0))
	case "shmput":
		shmput(arg(0), arg(1))
	case "shmget":
		shmget(arg(0))
	case "write":
		check(os.WriteFile(arg(0), []byte(arg(1)), 0o644))
	case "cat":
		b, err := os.ReadFile(arg(0))
		check(err)
		os.Stdout.Write(b)
	case "ps":
		ps()
	case "orphan":
		orphan()
	case "orphan-exit": // leaves an orphan that exits 7 at once
		cmd := exec.Command("/proc/self/exe", "exit", "7")
		check(cmd.Start())
		fmt.Println(cmd.Process.Pid)
		os.Exit(0)
	case "oom":
		oom()
	case "forkbomb":
		forkbomb()
	case "term":
		term(arg(0))
	case "hog": // hog <MiB> <cache file> <cache MiB>: memory, page cache, one busy thread
		hog(arg(0), arg(1), arg(2))
	case "tick": // tick <ms>: prints "tick N" every ms milliseconds, N from 0
		ms, _ := strconv.Atoi(arg(0))
		for i := 0; ; i++ {
			fmt.Println("tick", i)
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	case "stdin": // copies stdin to stdout, then prints "eof"
		_, err := io.Copy(os.Stdout, os.Stdin)
		check(err)
		fmt.Println("eof")
	case "cri-lines": // lines for the CRI log format test
		fmt.Println("out1")
		fmt.Fprintln(os.Stderr, "err1")
		fmt.Println(strings.Repeat("x", 20000))
		fmt.Println()
		fmt.Print("tail")
	case "spew": // spew <MiB>: writes MiB of 64-byte lines to stdout
		mib, _ := strconv.Atoi(arg(0))
		line := strings.Repeat("x", 63) + "\n"
		chunk := []byte(strings.Repeat(line, 1024)) // 64 KiB
		for i := 0; i < mib*16; i++ {
			_, err := os.Stdout.Write(chunk)
			check(err)
		}
	case "tty":
		ttyReport()
	case "ls": // ls <dir>: one entry name a line
		ents, err := os.ReadDir(arg(0))
		check(err)
		for _, e := range ents {
			fmt.Println(e.Name())
		}
	case "bindmount": // bindmount <src> <dst>
		check(unix.Mount(arg(0), arg(1), "", unix.MS_BIND, ""))
	case "escape": // what is above the root (inspect.go)
		escape()
	case "nested-pivot": // a runtime's pivot_root inside the container (inspect.go)
		nestedPivot(arg(0) == "inner")
	case "inspect": // the start-path differential test's report (inspect.go)
		inspect()
	case "echo2": // each stdin line to stdout, and "err <line>" to stderr
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Println(sc.Text())
			fmt.Fprintln(os.Stderr, "err", sc.Text())
		}
	case "count-exit":
		countExit(arg(0), arg(1))
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

// sleepForever blocks without tripping the runtime's deadlock detector.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// pause reaps every child and exits 0 on SIGTERM/SIGINT.
func pause() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range ch {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}

func serve(port string) {
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	check(err)
	fmt.Println("listening")
	for {
		c, err := l.Accept()
		check(err)
		h, _ := os.Hostname()
		fmt.Fprintf(c, "hello from %s\n", h)
		c.Close()
	}
}

func get(port string) {
	var c net.Conn
	var err error
	for i := 0; i < 200; i++ {
		if c, err = net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	check(err)
	line, err := bufio.NewReader(c).ReadString('\n')
	check(err)
	fmt.Print(line)
}

func shmput(key, val string) {
	k, _ := strconv.Atoi(key)
	id, err := unix.SysvShmGet(k, 4096, unix.IPC_CREAT|0o666)
	check(err)
	b, err := unix.SysvShmAttach(id, 0, 0)
	check(err)
	copy(b, val)
	check(unix.SysvShmDetach(b))
}

func shmget(key string) {
	k, _ := strconv.Atoi(key)
	id, err := unix.SysvShmGet(k, 4096, 0)
	check(err)
	b, err := unix.SysvShmAttach(id, 0, unix.SHM_RDONLY)
	check(err)
	fmt.Println(strings.TrimRight(string(b), "\x00"))
	_ = unix.SysvShmDetach(b)
	_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
}

// ps prints "pid comm" for every process in the PID namespace.
func ps() {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, n)
		}
	}
	sort.Ints(pids)
	for _, p := range pids {
		b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline"))
		fmt.Printf("%d %s\n", p, strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "))
	}
}

// orphan starts a child that outlives us, prints its pid and exits.
func orphan() {
	cmd := exec.Command("/proc/self/exe", "sleep")
	check(cmd.Start())
	fmt.Println(cmd.Process.Pid)
	os.Exit(0)
}

// keep holds what oom allocates, so nothing of it can be freed.
var keep [][]byte

func oom() {
	for {
		b := make([]byte, 8<<20)
		for i := range b {
			b[i] = 1
		}
		keep = append(keep, b)
	}
}

func forkbomb() {
	n := 0
	for ; n < 10000; n++ {
		cmd := exec.Command("/proc/self/exe", "sleep")
		if err := cmd.Start(); err != nil {
			break
		}
	}
	fmt.Println("forked", n)
	os.Stdout.Sync()
	sleepForever()
}

// term: mode "graceful" exits 0 shortly after SIGTERM, "ignore" ignores it.
func term(mode string) {
	ch := make(chan os.Signal, 1)
	if mode == "ignore" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(ch, syscall.SIGTERM)
	}
	fmt.Println("ready")
	if mode == "ignore" {
		sleepForever()
	}
	<-ch
	fmt.Println("got SIGTERM")
	time.Sleep(100 * time.Millisecond)
	os.Exit(0)
}

// countExit appends a line to file and exits 1 until the file has n lines,
// then exits 0.
func countExit(file, n string) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	check(err)
	f.WriteString("x\n")
	f.Close()
	b, _ := os.ReadFile(file)
	want, _ := strconv.Atoi(n)
	if strings.Count(string(b), "\n") >= want {
		os.Exit(0)
	}
	os.Exit(1)
}

// hog touches n MiB of anonymous memory, writes cacheMiB MiB to file (page
// cache), prints "ready" and keeps one thread busy forever.
func hog(n, file, cacheMiB string) {
	mib, _ := strconv.Atoi(n)
	mib = max(mib, 1)
	keep := make([]byte, mib<<20)
	for i := range keep {
		keep[i] = 1
	}
	if cm, _ := strconv.Atoi(cacheMiB); cm > 0 {
		check(os.WriteFile(file, make([]byte, cm<<20), 0o644))
	}
	fmt.Println("ready")
	for x := 0; ; x++ {
		keep[x%len(keep)]++
	}
}

// ttyReport prints "tty <name> <rows>x<cols> ctty=<bool>", waits for a
// SIGWINCH and prints "winch <rows>x<cols>", then echoes one line of
// stdin as "got <line>".
func ttyReport() {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	size := func() string {
		ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
		check(err)
		return fmt.Sprintf("%dx%d", ws.Row, ws.Col)
	}
	name, _ := os.Readlink("/proc/self/fd/0")
	sid, _ := unix.Getsid(0)
	pgrp, err := unix.IoctlGetInt(0, unix.TIOCGPGRP) // fails without a controlling terminal
	fmt.Printf("tty %s %s ctty=%v\n", name, size(), err == nil && pgrp == sid)
	<-winch
	fmt.Printf("winch %s\n", size())
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Printf("got %s\n", strings.TrimSpace(line))
}
