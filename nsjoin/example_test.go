//go:build linux

package nsjoin_test

import (
	"fmt"
	"log"
	"os"

	"github.com/podkit/podkit/nsjoin"
)

// A pod's network, IPC and UTS namespaces without any process: create,
// pin, configure. Needs root.
func ExampleCreate() {
	pins, err := nsjoin.OpenPinDir("") // /run/podkit/ns
	if err != nil {
		log.Fatal(err)
	}
	s, err := nsjoin.Create(nsjoin.Net, nsjoin.IPC, nsjoin.UTS)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := pins.PinSet("pod-1234", s); err != nil {
		log.Fatal(err)
	}
	if err := nsjoin.LoopbackUp(s.Get(nsjoin.Net)); err != nil {
		log.Fatal(err)
	}
	if err := nsjoin.SetSysctl(s.Get(nsjoin.Net), "net.ipv4.ip_unprivileged_port_start", "0"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pinned", s) // pinned net:[4026532...] ipc:[...] uts:[...]
}

// Run Go code inside a pod's namespaces, e.g. after a restart.
func ExampleDo() {
	pins, err := nsjoin.OpenPinDir("")
	if err != nil {
		log.Fatal(err)
	}
	s, err := pins.OpenSet("pod-1234")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = nsjoin.Do(s, func() error {
		name, err := os.Hostname() // the pod's UTS namespace
		fmt.Println("hostname inside:", name)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Start a process in the namespaces of a running process (the pod's pause
// process), safe against the pid being reused meanwhile.
func ExampleCommand() {
	pausePid := 4242
	s, err := nsjoin.OpenSetPid(pausePid, nsjoin.Net, nsjoin.IPC, nsjoin.UTS, nsjoin.PID)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	c := nsjoin.Command(s, "/bin/sh", "-c", "hostname; ip addr")
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	if err := c.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pidfd:", c.PidFD())
	if err := c.Wait(); err != nil {
		log.Fatal(err)
	}
}

// Remove the pins of pods that no longer exist and have no process left.
func ExamplePinDir_Sweep() {
	pins, err := nsjoin.OpenPinDir("")
	if err != nil {
		log.Fatal(err)
	}
	live := map[string]bool{"pod-1234": true}
	removed, err := pins.Sweep(func(name string) bool { return live[name] })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("swept", removed)
}

// Make a netns visible to `ip netns exec demo ...`.
func ExamplePinNetnsForIPTool() {
	s, err := nsjoin.Create(nsjoin.Net)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	path, err := nsjoin.PinNetnsForIPTool("demo", s.Get(nsjoin.Net))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ip netns exec demo ... now works;", path)
	_ = nsjoin.UnpinNetnsForIPTool("demo")
}
