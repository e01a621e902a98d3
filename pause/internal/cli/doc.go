// Package cli holds the pure, kernel-free logic of the podkit-pause binary:
// command-line parsing (and its inverse, used by the pause package to build
// argv), the mapping from wait statuses and exec errors to shell-style exit
// codes, the signal policy of pause and init mode, $PATH lookup, and the JSON
// lines written to the events fd.
//
// It imports only small standard packages (errors, strconv, syscall) so the
// pause binary stays small; everything here is unit-tested without root.
package cli
