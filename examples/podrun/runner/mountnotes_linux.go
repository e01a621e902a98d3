//go:build linux

package runner

import (
	"fmt"

	"github.com/podkit/podkit/sandbox"
)

// Parts of the --check plan shown only when set (so plans without them
// read as before).

func fsGroupNote(v sandbox.Volume) string {
	if v.FSGroup == nil {
		return ""
	}
	return fmt.Sprintf(" fsGroup=%d policy=%q", *v.FSGroup, v.FSGroupChangePolicy)
}

func subPathNote(m sandbox.Mount) string {
	if m.SubPath == "" {
		return ""
	}
	return fmt.Sprintf(" subPath=%q", m.SubPath)
}

func groupsNote(gids []uint32) string {
	if len(gids) == 0 {
		return ""
	}
	return fmt.Sprintf(" groups %v", gids)
}
