# shellcheck shell=bash
# Turns the VM's result port into test2json events (sourced by run.sh).
#
# The result port carries the framing of guest/init and guest/runtests around
# each test binary's -test.v=test2json output. Each package's output is fed
# to `go tool test2json -p <import path>`; a package whose binary exited
# non-zero without a package-level fail event (a crash, a leak found in
# TestMain, a timeout), that did not finish, or that never started gets a
# synthetic fail event carrying the tail of its output, so nothing that went
# wrong in the VM can look green.

# split_results splits result port capture $1 into $2/pkg-<idx>.log,
# $2/pkg-<idx>.end ("<exit status> <seconds>"), $2/booted and $2/status.
split_results() {
	awk -v dir="$2" '
	function flush() { if (held) { print "" >> file; held = 0 } }
	/^@@PODKIT-BOOTED / { print $2, $3, $4 > (dir "/booted"); next }
	/^@@PODKIT-BEGIN / { file = dir "/pkg-" $2 ".log"; printf "" > file; inpkg = 1; held = 0; next }
	/^@@PODKIT-END / {
		close(file); inpkg = 0; held = 0
		print $3, $4 > (dir "/pkg-" $2 ".end"); close(dir "/pkg-" $2 ".end"); next
	}
	/^@@PODKIT-STATUS / { sub(/^@@PODKIT-STATUS /, ""); print > (dir "/status"); next }
	inpkg && $0 == "" { flush(); held = 1; next }
	inpkg { flush(); print >> file }
	' "$1"
}

# json_string prints $1 as a JSON string literal.
json_string() {
	printf '%s' "$1" | awk 'BEGIN { ORS = "" } {
		gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r")
		gsub(/[\001-\037]/, "?")
		printf "%s%s", (NR > 1 ? "\\n" : ""), $0
	} END { print "" }' | { printf '"'; cat; printf '"'; }
}

# synth_fail prints an output event with message $2 and a fail event for
# package $1, elapsed $3 seconds.
synth_fail() {
	printf '{"Action":"output","Package":%s,"Output":%s}\n' "$(json_string "$1")" "$(json_string "$2"$'\n')"
	printf '{"Action":"fail","Package":%s,"Elapsed":%s}\n' "$(json_string "$1")" "${3:-0}"
}

# package_events prints the test2json events of manifest entry idx/pkg from
# the split results in $3.
package_events() {
	local idx=$1 pkg=$2 dir=$3 rc secs json
	local log="$dir/pkg-$idx.log" end="$dir/pkg-$idx.end"
	if [ ! -f "$log" ]; then
		synth_fail "$pkg" "podkit-vm: $pkg did not run in the VM (the VM stopped before it; see the console log)"
		return
	fi
	json=$(go tool test2json -p "$pkg" <"$log")
	if [ ! -f "$end" ]; then
		printf '%s\n' "$json"
		synth_fail "$pkg" "podkit-vm: $pkg did not finish: the VM stopped while it ran (panic or timeout?). Last output:"$'\n'"$(tail -n 30 "$log")"
		return
	fi
	read -r rc secs <"$end"
	# Give the package's own pass/fail event the time the VM measured.
	printf '%s\n' "$json" | awk -v secs="$secs" '
		/^\{"Action":"(pass|fail|skip)","Package":"[^"]*"\}$/ { sub(/\}$/, ",\"Elapsed\":" secs "}") }
		{ print }'
	if [ "$rc" -ne 0 ] && ! printf '%s\n' "$json" | grep -q '^{"Action":"fail","Package":"[^"]*"}$'; then
		synth_fail "$pkg" "podkit-vm: test binary exited with status $rc. Last output:"$'\n'"$(tail -n 30 "$log")" "$secs"
	fi
}

# build_failure_events prints a failure for every "<pkg> <log>" line of
# file $1 (packages whose test binary or main binary did not build).
build_failure_events() {
	local pkg log
	[ -f "$1" ] || return 0
	while read -r pkg log; do
		synth_fail "$pkg" "podkit-vm: build failed:"$'\n'"$(cat "$log" 2>/dev/null)"
	done <"$1"
}

# collect_events prints the events of every package of manifest $1 from
# result port capture $2, splitting into directory $3.
collect_events() {
	local manifest=$1 raw=$2 dir=$3 idx pkg rest
	mkdir -p "$dir"
	split_results "$raw" "$dir"
	while read -r idx pkg rest; do
		package_events "$idx" "$pkg" "$dir"
	done <"$manifest"
}
