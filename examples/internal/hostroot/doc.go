// Package hostroot gives podkit containers a read-only view of the host's
// root filesystem (the podrun image "host"), without touching the host.
//
// libcontainer cannot use "/" itself as a container root (pivot_root fails
// with EBUSY on the current root mount), and bind-mounting "/" somewhere
// would put a mount on the host. Instead a Root is a small skeleton
// directory: the host's top-level symlinks (bin -> usr/bin on merged-/usr
// systems) are copied, and the host directories that hold programs and
// their configuration (/usr, /etc, /var, /opt, and /bin, /sbin, /lib* when
// they are real directories) are bind-mounted read-only inside the
// container's own mount namespace. The pod's generated /etc/hosts,
// /etc/hostname and /etc/resolv.conf are bound again on top of the host's
// /etc. /tmp is meant to be a private tmpfs volume. /home, /root, /run,
// /srv, /mnt and friends stay empty.
package hostroot
