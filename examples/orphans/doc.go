// Command orphans shows a shared PID namespace (shareProcessNamespace): a
// container leaves an orphan behind, the orphan is re-parented to PID 1 of
// the pod, which is the podkit pause process, and the pause reaps it when it
// exits, so no zombie is left. Run as root:
//
//	go run ./examples/orphans
package main
