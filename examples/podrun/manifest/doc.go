// Package manifest turns a Kubernetes Pod manifest (YAML or JSON, decoded
// into package kubeapi's declaration of Kubernetes' core/v1 Pod API, which
// its tests hold field for field to k8s.io/api's) into podkit sandbox
// values.
//
// A manifest file may hold several YAML documents, as `podman kube play`
// takes them: Pods (ParseAll converts each; Parse wants exactly one) and
// the v1 ConfigMaps and Secrets they use. Those are resolved while
// converting, before anything exists: env valueFrom (configMapKeyRef,
// secretKeyRef, fieldRef, resourceFieldRef) and envFrom become plain
// variables, and configMap, secret and downwardAPI volumes become
// DataVolumes, files the runner writes into the sandbox's volume. A missing
// object or key that is not optional is an ErrNotFound problem naming the
// field. The downward API's node values (node name, host IPs, allocatable
// resources standing in for missing limits) come from Options.Node, by
// default HostNode, this machine as a default-configured kubelet reports
// it.
//
// Conversion is strict: every field of the manifest that podkit does not
// support is reported by its path (for example
// spec.containers[0].startupProbe) in one error listing all of them, and
// fields that are safe to ignore on a single machine (nodeSelector,
// tolerations, imagePullPolicy, ...) become warnings. Nothing is silently
// dropped. Parse only reads the manifest and, for local images and
// hostPath volumes, stats paths; it never changes the host.
//
// A container's image is the word "host", which gives the container a
// read-only view of the host's /usr, /etc, /var and /opt and a private
// writable tmpfs at /tmp; or a local root filesystem directory (absolute,
// or relative to the manifest's directory, written with a leading "./");
// or an image reference (busybox, registry.k8s.io/pause:3.9,
// repo@sha256:...), returned as an ImageRef with its imagePullPolicy
// (Kubernetes' default: Always for :latest or no tag, else IfNotPresent),
// which the runner pulls or finds in the image store and completes the
// container from (ENTRYPOINT/CMD, ENV, WORKDIR, USER).
package manifest
