// Package podnet gives pods an IP address through CNI: it runs the standard
// plugins (bridge, host-local, portmap, firewall, loopback, tuning from
// containernetworking/plugins, Debian's containernetworking-plugins package
// installs them under /usr/lib/cni) with libcni, the way the kubelet's
// runtimes do.
//
// podnet knows nothing about sandboxes: it takes the path of a network
// namespace (a pinned one such as the sandbox's <RunDir>/<ID>/ns/net, or
// /proc/<pid>/ns/net) and a PodRef, so any pod manager can call it.
//
// # Networks
//
// New validates a Config (the conflist, from a directory by name, as bytes
// or as a Go ConfList; plugin directories; libcni's cache directory) and
// checks that every plugin exists, before anything runs. Errors name the
// field (*ConfigError wrapping ErrInvalidConfig or ErrPluginNotFound).
//
// Default is podkit's own network, "podkit": a bridge podkit0 with
// host-local IPAM on 10.87.0.0/16 (gateway 10.87.0.1 on the bridge), IP
// masquerade for traffic leaving the subnet, portmap for hostPorts and
// firewall for the FORWARD chain (needed where its policy is DROP, as
// Docker leaves it). The subnet avoids the defaults of podman and
// containerd (10.88.0.0/16), CRI-O (10.85.0.0/16), flannel (10.244.0.0/16),
// k3s (10.42.0.0/16) and Docker (172.17.0.0/16). BridgeConfList builds the
// same shape with another name, bridge and subnets (IPv4 and/or IPv6).
// The bridge plugin turns on IP forwarding (isGateway). The plugins leave
// the bridge, the host-local data directory and portmap's and firewall's
// top-level chains (CNI-HOSTPORT-*, CNI-FORWARD, CNI-ADMIN) in place when
// the last pod leaves; podnet takes back what the network's first pod
// made: Attach records which of them were missing (HostStateDir), and the
// Detach of the last pod removes those, chains only while they hold
// nothing but their plugin's own rules. A bridge or chain that was there
// before is never touched (hoststate_linux.go).
//
// # Attach and Detach
//
// Attach runs CNI ADD for the whole conflist with the arguments the kubelet's
// runtimes pass: CNI_ARGS IgnoreUnknown=1, K8S_POD_NAMESPACE, K8S_POD_NAME,
// K8S_POD_INFRA_CONTAINER_ID (the pod ID, also CNI_CONTAINERID) and
// K8S_POD_UID, and the portMappings capability
// ({hostPort, containerPort, protocol "tcp"|"udp", hostIP}) for plugins
// that declare it. The Result holds the pod's addresses (IPv4 and IPv6
// where the IPAM is configured for them), its interface and gateways. A
// pod that is already attached (libcni holds a cached result for it) is
// refused with ErrAttached before any plugin runs: a second ADD would fail
// and its rollback would tear down the first attachment. If ADD fails,
// Attach runs DEL for the whole list before returning (*Error wrapping
// ErrAttach, ErrAddressesExhausted when host-local ran out of addresses,
// and ErrRollback if the DEL failed too). libcni caches nothing for a
// failed ADD, so that DEL would reach the plugins without a prevResult and
// those that learn the pod's addresses from it (firewall) would leave their
// rules; Attach hands the rollback DEL the output of the last plugin whose
// ADD succeeded as prevResult instead. Plugins that are missing at
// rollback time are left out of it (they did nothing; libcni's DEL would
// stop at them and skip the others).
//
// Detach runs CNI DEL. libcni keeps the result and the arguments of every
// successful ADD under <CacheDir>/results; Detach uses that cached
// conflist and arguments (so a pod is detached from the network it was
// attached to even if the Config changed since), which also makes it work
// from a new process after the manager crashed. The network namespace may
// be gone (pass ""): the IPAM lease, portmap's and firewall's rules are
// released by container ID. The bridge plugin (up to at least v1.1.1)
// skips its masquerade teardown when the namespace is gone; Detach then
// removes the rules it tagged for the pod (chain CNI-<hash of network and
// ID>, comment `name: "<network>" id: "<ID>"`) itself. A failing DEL is
// retried (Config.DelAttempts) and then reported with ErrDetach; the cache
// entry stays, so a later Detach tries again. Detach of a pod that is not
// attached is a DEL with the current config, which the plugins treat as a
// no-op: it also cleans up after a manager that crashed inside ADD (except
// for rules of plugins that need a prevResult, as above). Callers
// serialise Attach and Detach of one pod, as the kubelet does; different
// pods may be attached and detached concurrently.
//
// # hostPorts on the host and on 127.0.0.1
//
// portmap DNATs a hostPort in PREROUTING (traffic from elsewhere) and
// OUTPUT (traffic from the host itself) for every local address. With
// "snat": true (the default of Default) it also masquerades hairpin and
// localhost traffic and sets net.ipv4.conf.<bridge>.route_localnet=1, which
// lets a packet from 127.0.0.1 be routed to the bridge: that is what makes
// 127.0.0.1:<hostPort> answer, as the kubelet's hostPort does. There is no
// IPv6 equivalent (::1 cannot leave the host's loopback).
package podnet
