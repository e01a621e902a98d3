// Command localhost shows two containers of one pod sharing a network
// namespace: a server listens on 127.0.0.1 in one container and a client in
// another container reaches it over localhost. Run as root:
//
//	go run ./examples/localhost
package main
