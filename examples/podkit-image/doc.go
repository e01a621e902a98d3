// Command podkit-image manages podkit's image store: it pulls images from
// registries (through configured mirrors), loads them from archives, lists,
// removes and garbage-collects them.
//
//	podkit-image [store flags] pull [--json] REF...
//	podkit-image [store flags] load [--tag REF] PATH
//	podkit-image [store flags] list [--json]
//	podkit-image [store flags] rm REF...
//	podkit-image [store flags] gc
//
// The store flags are --image-dir DIR, --registry-mirror REGISTRY=URL
// (repeatable) and --mirrors-only. Pull progress is shown when stderr is a
// terminal; pull --json prints one JSON object per reference instead of a
// line (imagestore.PullResult): {"ref","id"} or {"ref","error","kind"},
// kind naming the error (imagestore.ErrorKind). SIGINT and SIGTERM cancel
// a pull. Exit status: 0
// done, 1 failed (registry, store), 2 bad usage, bad reference or no such
// image.
//
// podrun runs it for `podrun images` and for the images a pod needs pulled:
// podrun itself only reads the store (package imagestore), so that it does
// not link the registry client, the layer unpacker and their dependencies,
// which would cost every podrun start about 0.6 ms.
package main
