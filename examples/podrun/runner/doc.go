// Package runner is podrun: it runs a Kubernetes Pod manifest on this
// machine with podkit's sandbox package and the kubelet layer
// (examples/kubelet: restart policy, init containers and sidecars, hooks,
// startup, liveness and readiness probes, all run the way the kubelet runs
// them; podrun maps the manifest to its PodSpec), writes the
// containers' logs in the CRI log format, and prints a live status table
// like `kubectl get pod -w` (or JSON lines with --json).
//
// Containers whose image is a registry reference run from podkit's image
// store (examples/internal/image): images are pulled or found per
// imagePullPolicy before anything is created, every run of a container
// gets its own overlay root (through the kubelet's BeforeCreate and
// AfterRemove hooks), removed with the run, and `podrun images` pulls,
// loads, lists, removes and garbage-collects images.
//
// A manifest of several Pods runs them side by side (runPods): pulled,
// created one after the other (all removed again if one fails), then run
// together, sharing the table, the signals, --timeout and --until-ready;
// the exit status is the most severe of the pods'. The files of configMap,
// secret and downwardAPI volumes are written into the sandbox's volumes
// once it exists, in the kubelet's atomic writer layout (..data).
//
// Main is the whole command line program; examples/podrun is a thin main
// around it, and tests call Main in-process.
package runner
