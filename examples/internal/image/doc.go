// Package image runs real OCI images: it pulls them from registries (or
// loads them from an OCI layout, an OCI archive or a `docker save` tarball),
// keeps them in a content-addressed store on disk, unpacks every layer once,
// and gives each container its own overlayfs root on top of the shared
// layers.
//
// The store under its root directory (DefaultRoot unless told otherwise):
//
//	blobs/sha256/<hex>     manifests, configs and compressed layers, once each
//	layers/sha256/<hex>    one unpacked directory per layer, named by diff ID,
//	                       with overlayfs whiteouts (ready as a lower dir)
//	images/<hex>.json      one record per image, named by its ID (the config
//	                       digest), holding its tags and repo digests
//	rootfs/<id>/           per-container upper, work and merged directories
//	tmp/                   work in progress; renamed into place when complete
//
// Everything becomes visible by an atomic rename, so a crash mid-pull leaves
// only files under tmp/ that GC removes, never a half image in List. Two
// processes may share a store: pulls and rootfs creation hold a shared flock
// that GC and Remove take exclusively, and image records are rewritten under
// a second, exclusive flock.
//
// Pulls use go-containerregistry with the Docker config file's credentials,
// resolve multi-arch indexes to this machine's platform, verify every digest,
// and can be redirected to mirrors (Registry, in the manner of containerd's
// hosts.toml and CRI-O's registries.conf) while the image keeps the name it
// was asked for. Layers are unpacked by umoci's oci/layer in its overlayfs
// format after podkit refuses entries that climb out of the rootfs.
//
// A runtime uses it like this:
//
//	s, err := image.Open(image.Options{Registries: []image.Registry{
//		{Prefix: "*", Mirrors: []string{"http://127.0.0.1:5000"}}}})
//	img, err := s.Pull(ctx, "registry.k8s.io/pause:3.9") // or s.Load(ctx, "app.tar", "")
//	r, err := s.CreateRootfs(containerID, img.ID)           // overlay mounted at r.Dir
//	p, err := s.ContainerConfig(r, image.Container{Args: args, Env: env, User: user})
//	host, err := r.MountPoint("/data", true)                // bind a volume on host
//	...                                                     // run p.Args in r.Dir
//	err = s.RemoveRootfs(containerID)
//	err = s.Remove("registry.k8s.io/pause:3.9")
//	_, err = s.GC()
//
// WithProgress makes a pull or load report each layer it stores (for a
// progress display).
//
// ContainerConfig turns an image's config plus a Kubernetes container's
// command, args, env, workingDir and user into the process to run, with
// the user resolved against the image's own /etc/passwd and /etc/group.
package image
