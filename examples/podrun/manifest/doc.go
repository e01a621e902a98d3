// Package manifest turns a Kubernetes Pod manifest (YAML or JSON, parsed
// with the real k8s.io/api/core/v1 types) into podkit sandbox values.
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
