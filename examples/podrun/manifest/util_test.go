package manifest

import "os"

func mkdir(p string) error { return os.Mkdir(p, 0o755) }
