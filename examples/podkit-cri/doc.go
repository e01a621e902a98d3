// Command podkit-cri is a Kubernetes container runtime (CRI v1 over gRPC on
// a unix socket) built on podkit's sandbox package: kubelet, crictl and
// critest talk to it as they talk to containerd or CRI-O.
//
//	podkit-cri [--config FILE] [--listen /run/podkit/cri.sock] [--state-dir DIR]
//	           [--run-dir DIR] [--image-dir DIR] [--cgroup-parent PATH] [--pause PATH]
//	           [--registry-mirror REGISTRY=URL]... [--log-level debug|info|warn|error]
//	           [--cni-network NAME] [--cni-conf-dir DIR] [--cni-plugin-dir DIR]...
//	           [--cni-cache-dir DIR] [--no-network]
//
// Flags override the config file, a YAML mapping with the same names
// (listen, stateDir, runDir, imageDir, cgroupParent, pause, registryMirrors,
// logLevel). --registry-mirror REGISTRY=URL answers pulls of REGISTRY's
// images (or every registry's, for *) from URL, while the images keep their
// names; plain HTTP is used where the URL says http://.
//
// Pods get an IP from CNI (examples/internal/podnet): by default podkit's own
// bridge network (bridge podkit0, 10.87.0.0/16, portmap for hostPorts), or the
// conflist named by --cni-network. Without a usable network (plugins
// missing, --no-network) the runtime still serves, with NetworkReady false. SIGTERM or SIGINT stops serving; pods and containers keep
// running, and the next start re-attaches them.
//
// crictl exec, attach (stdin, stdin_once, tty and resize) and port-forward
// are served over SPDY (k8s.io/cri-streaming); GetContainerEvents (crictl
// events) streams containers' and pods' CREATED, STARTED, STOPPED and
// DELETED events with their statuses. Across a restart, a container's log
// and the output half of attach carry on, but what only the runtime held
// goes with it: a container's stdin sees EOF, and a tty container's
// terminal is hung up (SIGHUP), as podkit-cri has no shim to hold them.
//
// With crictl:
//
//	cat > /etc/crictl.yaml <<EOF
//	runtime-endpoint: unix:///run/podkit/cri.sock
//	image-endpoint: unix:///run/podkit/cri.sock
//	EOF
//	crictl version
//
// As a systemd service, see podkit-cri.service beside this file.
package main
