// Package kubelet runs a real kubelet (v1.37.2, built from the Go module
// proxy by integration/tools/kubelet.sh) against podkit-cri.
//
// The kubelet changes host sysctls when it starts (vm.overcommit_memory,
// kernel.panic, ...), so it never runs on the test host: TestKubelet, on the
// host, boots a cgroup v2 VM with integration/vm/run.sh that runs this same
// test inside it (PODKIT_VM=1), with the kubelet and crictl binaries copied
// in (PODKIT_VM_EXTRA). In the guest the test serves the test images from
// an in-process registry (integration/criimages), starts podkit-cri on its
// default CNI network and the kubelet standalone (no API server: static pods
// from a manifest directory), and checks from outside the kubelet (crictl,
// the pod log files, the kubelet's own log endpoint) that the pods run,
// their logs are where the kubelet reads them and a crashing container is
// restarted, and that the kubelet's /stats/summary has the pod's CPU and
// memory. The VM lane of integration/test-all.sh leaves this package out:
// it boots its own VM from the host lane.
//
// Run it as root with a longer timeout than go test's 10 minutes: a cold
// kubelet build takes about 7 minutes, the VM run 2-4 more (2 CPUs, TCG).
//
//	go test -count=1 -timeout 30m ./integration/kubelet/
package kubelet
