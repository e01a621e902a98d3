// Package ownfork forks and execs a program without copying the
// manager's descriptor table into the child.
//
// A manager of many pods holds several descriptors per pod (pidfds,
// output FIFOs, log files). An ordinary fork copies the whole table and
// the exec then closes every close-on-exec descriptor one by one again,
// so each container start and each exec grows slower with every pod. The
// child here shares the table (CLONE_VM|CLONE_VFORK|CLONE_FILES) until
// its first step, close_range(below, ~0, CLOSE_RANGE_UNSHARE), gives it a
// table of its own holding only the descriptors numbered below "below":
// a handful of slots the package reserved at start, into which Start has
// put the child's standard files just before the clone. The child then
// does what syscall.ForkExec's child does for the attributes it supports
// (session, controlling terminal, credentials, ambient capabilities,
// working directory, parent-death signal, PTRACE_TRACEME, the original
// RLIMIT_NOFILE) and execs.
//
// Start reports ok false when this way does not apply (a build without
// cgo or not on amd64, no free slot group, more files than a group
// holds, a kernel refusing clone3 or close_range's unshare, or reserved
// slots that somebody else closed): the caller forks the usual way.
package ownfork
