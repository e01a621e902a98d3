// Package imagestore reads and maintains podkit's image store on disk: the
// images pulled or loaded into it (List, Status, Config, Remove), the
// container roots made from them (CreateRootfs: an overlay of the shared
// unpacked layers; ContainerConfig: the process to run by Kubernetes'
// rules), and GC.
//
// It is the part of the store a runtime needs to run images that are
// there, with few dependencies; the image package adds pulls and loads
// (go-containerregistry, umoci, compression), so that a program that only
// runs stored images (podrun, which has podkit-image pull them) does not
// link them. The layout under the store's root:
//
//	blobs/sha256/<hex>     manifests, configs and compressed layers, once each
//	layers/sha256/<hex>    one unpacked directory per layer, named by diff ID,
//	                       with overlayfs whiteouts (ready as a lower dir)
//	images/<hex>.json      one record per image, named by its ID (the config
//	                       digest), holding its tags and repo digests
//	rootfs/<id>/           per-container upper, work and merged directories
//	tmp/                   work in progress; renamed into place when complete
//
// Everything becomes visible by an atomic rename, so a crash mid-pull
// leaves only files under tmp/ that GC removes, never a half image in List.
// Two processes may share a store: pulls and rootfs creation hold a shared
// flock that GC and Remove take exclusively (UseLock), and image records
// are rewritten under a second, exclusive flock (Commit).
package imagestore
