// Command readynoop writes one byte to fd 3 and exits: the benchmark floor
// for spawning a static Go binary the way pause.Start spawns podkit-pause.
package main
