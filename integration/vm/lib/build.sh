# shellcheck shell=bash
# Static builds for the podkit test VM (sourced by integration/vm/run.sh).
#
# There is no Go toolchain and no C library in the VM, so everything is linked
# statically on the host: test binaries with CGO (libcontainer's nsenter needs
# it) through the external linker, main packages like the harness's
# BuildStatic does (CGO off) unless they need cgo themselves. The seccomp tag
# (libcontainer's seccomp support) links libseccomp.a from libseccomp-dev.

VM_GO_TAGS=${PODKIT_VM_TAGS:-osusergo,netgo,seccomp}
VM_STATIC_LDFLAGS="-linkmode external -extldflags -static"
# VM_BUILDLOGS (set by run.sh, outside the staged root) keeps build logs.

# list_test_packages prints "<import path> <dir relative to the module root>"
# for every package matching patterns $@ that has test files.
list_test_packages() {
	local root
	root=$(pwd) # run.sh runs from the repository (workspace) root
	go list -e -tags "$VM_GO_TAGS" \
		-f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "$@" |
		while read -r pkg dir; do
			[ -n "$pkg" ] || continue
			rel=${dir#"$root"}
			rel=${rel#/}
			echo "$pkg ${rel:-.}"
		done
}

# build_tests builds the test binary of every "<pkg> <dir>" line on stdin into
# $1/tests and writes $1/manifest, up to PODKIT_VM_JOBS builds at once. Like
# go test, a package that fails to build does not stop the others: it is left
# out of the manifest and "<pkg> <build log>" is appended to file $2.
build_tests() {
	local out=$1 failures=$2 idx=0 pkg dir bin
	mkdir -p "$out/tests" "$VM_BUILDLOGS"
	: >"$out/manifest.all"
	while read -r pkg dir; do
		idx=$((idx + 1))
		bin="$(printf '%03d' "$idx")-${pkg##*/}.test"
		echo "$idx $pkg $dir $bin" >>"$out/manifest.all"
	done
	# shellcheck disable=SC2016 # expanded by the inner shell
	awk '{ print $2, $4 }' "$out/manifest.all" |
		xargs -P "${PODKIT_VM_JOBS:-2}" -L 1 sh -c '
			log="$VM_BUILDLOGS/$2.log"
			CGO_ENABLED=1 go test -c -tags "$VM_GO_TAGS" -ldflags "-s -w $VM_STATIC_LDFLAGS" \
				-o "$0/tests/$2" "$1" >"$log" 2>&1 && [ -f "$0/tests/$2" ] ||
				{ echo "vm: build of $1 failed:" >&2; cat "$log" >&2; rm -f "$0/tests/$2"; }
			exit 0' "$out"
	: >"$out/manifest"
	while read -r idx pkg dir bin; do
		if [ -f "$out/tests/$bin" ]; then
			echo "$idx $pkg $dir $bin" >>"$out/manifest"
		else
			echo "$pkg $VM_BUILDLOGS/$bin.log" >>"$failures"
		fi
	done <"$out/manifest.all"
	rm -f "$out/manifest.all"
}

# needs_cgo reports whether main package $1 depends on non-standard cgo code.
needs_cgo() {
	[ -n "$(CGO_ENABLED=1 go list -tags "$VM_GO_TAGS" -deps \
		-f '{{if and .CgoFiles (not .Standard)}}{{.ImportPath}}{{end}}' "$1")" ]
}

# pause_ldflags prints pause.LinkFlags for the target architecture.
pause_ldflags() {
	case $(go env GOARCH) in
	amd64 | arm64) echo "-s -w -E=main.bareEntry" ;;
	*) echo "-s -w" ;;
	esac
}

# build_mains builds every main package of the workspace statically into $1,
# named after the last element of its import path. A failed build is reported
# like build_tests does, in file $2.
build_mains() {
	local out=$1 failures=$2 pkg name mains log
	mkdir -p "$out"
	mains=$(go list -e -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./... ./examples/... ./integration/...) || return 1
	for pkg in $mains; do
		name=${pkg##*/}
		[ -e "$out/$name" ] && die "two main packages build to $name: $pkg"
		log="$VM_BUILDLOGS/main-$name.log"
		mkdir -p "$VM_BUILDLOGS"
		if needs_cgo "$pkg"; then
			CGO_ENABLED=1 go build -tags "$VM_GO_TAGS" -ldflags "-s -w $VM_STATIC_LDFLAGS" \
				-o "$out/$name" "$pkg" >"$log" 2>&1
		elif [ "$name" = podkit-pause ]; then
			# As podkit links it (pause.LinkFlags: the bare pause), and
			# without the bare pause for the tests of the Go pause mode
			# (testharness.PauseBinaryGo).
			CGO_ENABLED=0 go build -trimpath -ldflags "$(pause_ldflags)" -o "$out/$name" "$pkg" >"$log" 2>&1 &&
				CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/$name-go" "$pkg" >>"$log" 2>&1
		else
			CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/$name" "$pkg" >"$log" 2>&1
		fi || {
			echo "vm: build of $pkg failed:" >&2
			cat "$log" >&2
			echo "$pkg $log" >>"$failures"
			rm -f "$out/$name"
		}
	done
}
