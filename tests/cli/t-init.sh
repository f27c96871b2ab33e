#!/usr/bin/env bash
# capstan init: templates, the generated project, refusals.
. "$(dirname "$0")/lib.sh"
export CAPSTAN_DATADIR="${CAPSTAN_DATADIR:-$CAPSTAN_BUILD_ROOT}"
cd "$TESTDIR" || exit 1

expect 0 "init a C project" "$CAPSTAN" init hello
for f in Capstanfile Makefile hello.c; do
	[ -f hello/$f ] && ok "hello/$f written" || fail "hello/$f written"
done
has hello/Capstanfile '^cmdline: /hello$' "cmdline names the program"
has hello/Capstanfile '^  /hello: hello$' "files maps the program"
has hello/Capstanfile '^build: make$' "build step is make"
hasnt hello/Makefile '@NAME@' "template placeholders replaced"
if command -v cc >/dev/null || command -v musl-gcc >/dev/null; then
	run make -C hello
	[ "$RC" = 0 ] && ok "generated Makefile builds" || fail "generated Makefile builds"
	run ./hello/hello
	has "$OUT" '^Hello, world!$' "generated program greets"
	run file hello/hello
	has "$OUT" 'statically linked|static-pie' "generated program is static"
fi

cp hello/hello.c "$TESTDIR/keep.c"
echo '// mine' >>hello/hello.c
expect 65 "init over an existing project" "$CAPSTAN" init hello
one_line "$ERR" "existing project error is one line"
has "$ERR" "hello/Capstanfile' already exists" "existing file named"
has hello/hello.c '// mine' "existing files untouched"

expect 65 "unknown template" "$CAPSTAN" init --template rust r
one_line "$ERR" "unknown template is one line"
has "$ERR" "unknown template 'rust' \(templates: binary, c\)" "templates listed"
[ -e r ] && fail "nothing created for an unknown template" || ok "nothing created for an unknown template"
expect 64 "extra argument" "$CAPSTAN" init a b
expect 64 "template needs a value" "$CAPSTAN" init --template

mkdir tool && printf '\177ELF rest' >tool/mytool && chmod +x tool/mytool
expect 0 "binary template" "$CAPSTAN" init -t binary tool
has tool/Capstanfile '^cmdline: /mytool$' "binary template names the executable"
expect 0 "binary template without an executable" "$CAPSTAN" init -t binary empty
has empty/Capstanfile '^  /app: app$' "binary template defaults to app"
has "$OUT" "Put your static executable at empty/app" "binary template says where the executable goes"

mkdir -p "odd name" && (cd "odd name" && "$CAPSTAN" init >/dev/null)
has "odd name/Capstanfile" '^cmdline: /odd-name$' "folder name made into a valid name"
(cd "odd name" && "$CAPSTAN" init -q . >"$OUT" 2>&1; echo $? >"$TESTDIR/rc")
[ "$(cat "$TESTDIR/rc")" = 65 ] && ok "init in . refuses an existing project" || fail "init in . refuses an existing project"
done_testing
