//go:build linux

package pause

// OwnFilesBuilt and OwnFilesSpawns let the external tests see which way a
// pause was forked.
const OwnFilesBuilt = spawnOwnFilesSupported

func OwnFilesSpawns() int64 { return ownFilesSpawns.Load() }
