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
// There is no image registry: a container's image names a local root
// filesystem, either an absolute directory path (or one relative to the
// manifest's directory, written with a leading "./"), or the word "host",
// which gives the container a read-only view of the host's /usr, /etc,
// /var and /opt and a private writable tmpfs at /tmp.
package manifest
