#!/usr/bin/env bash
# capstan build: images written from a Capstanfile, their content, reproducibility, errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlib.sh"

mkdir -p "$TESTDIR/app/etc/conf.d" "$TESTDIR/app/ROOTFS/etc" && cd "$TESTDIR/app" || exit 1
printf 'built\n' >etc/conf.d/a.conf
printf '#!/bin/sh\n' >tool && chmod 750 tool
ln -s tool tool-link
printf 'from rootfs\n' >ROOTFS/etc/issue
printf 'rootfs version\n' >ROOTFS/etc/motd
cat >Capstanfile <<'EOC'
base: capstan/base
build: echo step-output; printf 'made\n' > made.txt
cmdline: /tool --flag "two words"
env:
  GREETING: hello world
  N: "1"
  Q: "it's"
  E: ""
files:
  /tool: tool
  /tool-link: tool-link
  /etc: etc
  /made.txt: made.txt
  /etc/motd: made.txt
EOC
expect 0 "build with the defaults" "$CAPSTAN" build
hasnt "$OUT" '^step-output$' "build step output hidden without -v"
[ -f "$repo/app/app.qemu" ] && ok "image named after the folder" || fail "image named after the folder"
[ -f "$repo/app/index.yaml" ] && ok "index.yaml written" || fail "index.yaml written"
[ -d "$repo/capstan/base" ] && ok "base pulled into the local repository" || fail "base pulled into the local repository"
run qemu-img check "$repo/app/app.qemu"
[ "$RC" = 0 ] && ok "qemu-img check passes" || fail "qemu-img check passes"
dump app --data
has "$TESTDIR/dump" "^cmdline --env=GREETING='hello world' --env=N=1 --env=Q='it'\\\\''s' --env=E='' /tool --flag \"two words\"\$" "env prefixes the cmdline, quoted"
has "$TESTDIR/dump" '^magic CAPSTIMG version 1' "image header"
has "$TESTDIR/dump" 'kernel .* crc_ok True' "kernel checksum"
has "$TESTDIR/dump" 'rootfs .* crc_ok True' "root fs checksum"
has "$TESTDIR/dump" 'mbr_sig 55aa' "boot sector"
has "$TESTDIR/dump" '^100750 10 1700000000 /tool ' "mode and SOURCE_DATE_EPOCH kept"
has "$TESTDIR/dump" '^120777 4 [0-9]+ /tool-link -> tool$' "symlink kept"
has "$TESTDIR/dump" '^100644 6 [0-9]+ /etc/conf.d/a.conf ' "folders copied recursively"
has "$TESTDIR/dump" '^040755 0 [0-9]+ /etc/conf.d' "folder entries"
has "$TESTDIR/dump" '^100644 5 [0-9]+ /made.txt ' "build step ran in the Capstanfile folder"
has "$TESTDIR/dump" '^100644 12 [0-9]+ /etc/issue ' "ROOTFS folder included"
has "$TESTDIR/dump" '^100644 5 [0-9]+ /etc/motd ' "files override rootfs"
hasnt "$TESTDIR/dump" 'rootfs version' "overridden entry gone"
has "$TESTDIR/dump" ' /bin/sh ' "base root fs kept"

# capstan info on our images
expect 0 "info on a built image" "$CAPSTAN" info app
has "$OUT" '^kernel version: +0\.1\.0$' "info shows the kernel version"
has "$OUT" "^cmdline: +--env=GREETING='hello world' --env=N=1 " "info shows the cmdline"
has "$OUT" '^root fs entries: +[0-9]+$' "info shows the root fs entries"
has "$OUT" '^root fs size: .*bytes\)$' "info shows the root fs bytes"
expect 0 "info --files" "$CAPSTAN" info --files app
has "$OUT" '^  -rwxr-x---  +10 /tool$' "info --files lists modes and sizes"
has "$OUT" '^  lrwxrwxrwx +4 /tool-link -> tool$' "info --files shows link targets"
expect 0 "info --files --json" "$CAPSTAN" info --files --json app
has "$OUT" '"files":\[\{"path":"/bin"' "json lists the files"
head -c 65536 /dev/zero >"$TESTDIR/plain.raw"
expect 0 "info on another disk" "$CAPSTAN" info "$TESTDIR/plain.raw"
hasnt "$OUT" 'kernel version' "no image fields for another disk"
expect 65 "info --files on another disk" "$CAPSTAN" info --files "$TESTDIR/plain.raw"
one_line "$ERR" "info --files on another disk is one line"

# Reproducible: same inputs, same bytes, whatever the files' own times.
cp "$repo/app/app.qemu" "$TESTDIR/first.qemu"
touch -d '2001-01-01' tool etc/conf.d/a.conf
expect 0 "rebuild" "$CAPSTAN" build -q
if cmp -s "$repo/app/app.qemu" "$TESTDIR/first.qemu"; then ok "same inputs give the same bytes"; else fail "same inputs give the same bytes"; fi
SOURCE_DATE_EPOCH=1700000001 "$CAPSTAN" build -q >/dev/null 2>&1
if cmp -s "$repo/app/app.qemu" "$TESTDIR/first.qemu"; then fail "SOURCE_DATE_EPOCH changes the image"; else ok "SOURCE_DATE_EPOCH changes the image"; fi
# Without SOURCE_DATE_EPOCH each file keeps its own time (Python checks a .pyc against its .py's).
expect 0 "build without SOURCE_DATE_EPOCH" env -u SOURCE_DATE_EPOCH "$CAPSTAN" build -q app-times
dump app-times
has "$TESTDIR/dump" '^100750 10 978307200 /tool$' "a file's own time kept"
has "$TESTDIR/dump" '^100644 6 978307200 /etc/conf.d/a.conf$' "a file in a folder keeps its own time"
expect 0 "verbose shows the build step" "$CAPSTAN" build -v
has "$OUT" '^step-output$' "build step output shown with -v"

# Names and platforms
expect 0 "explicit name" "$CAPSTAN" build -q me/app2
[ -f "$repo/me/app2/app2.qemu" ] && ok "explicit namespaced name" || fail "explicit namespaced name"
expect 0 "raw platform" "$CAPSTAN" build -q -p raw
run qemu-img compare -f raw -F qcow2 "$repo/app/app.raw" "$repo/app/app.qemu"
[ "$RC" = 0 ] && ok "raw equals the qcow2" || fail "raw equals the qcow2"
expect 0 "gce platform" "$CAPSTAN" build -q -p gce
run tar -tzf "$repo/app/app.gce"
has "$OUT" '^disk.raw$' "gce holds disk.raw"
expect 0 "vbox platform" "$CAPSTAN" build -q -p vbox
run qemu-img info "$repo/app/app.vbox"
has "$OUT" 'file format: vdi' "vbox is VDI"
expect 64 "unknown platform" "$CAPSTAN" build -p xen
one_line "$ERR" "unknown platform is one line"
expect 64 "bad name" "$CAPSTAN" build "bad name"

# -f, from elsewhere; host paths are relative to the Capstanfile
cd "$TESTDIR" || exit 1
expect 0 "build -f from another folder" "$CAPSTAN" build -q -f app/Capstanfile other
[ -f "$repo/other/other.qemu" ] && ok "-f image installed" || fail "-f image installed"

# Errors: one line, exit 65, nothing installed
mkdir bad && cd bad || exit 1
expect 65 "missing Capstanfile" "$CAPSTAN" build
one_line "$ERR" "missing Capstanfile is one line"
has "$ERR" "no Capstanfile in " "missing Capstanfile explained"
expect 74 "missing -f file" "$CAPSTAN" build -f nowhere/Capstanfile
has "$ERR" "nowhere/Capstanfile" "missing -f file named"
printf 'cmdline: [oops\n' >Capstanfile
expect 65 "bad Capstanfile" "$CAPSTAN" build
one_line "$ERR" "bad Capstanfile is one line"
has "$ERR" 'Capstanfile:[0-9]+:[0-9]+' "bad Capstanfile names line:col"
printf 'cmdline: /x\nbuild: echo compiling; echo broken >&2; exit 3\n' >Capstanfile
expect 65 "failing build step" "$CAPSTAN" build
has "$ERR" "^capstan: .*build step .* failed with exit status 3$" "exit status named"
has "$ERR" '^broken$' "failing step output shown"
has "$ERR" '^compiling$' "failing step stdout shown"
[ -e "$repo/bad" ] && fail "failed build installs nothing" || ok "failed build installs nothing"
printf 'cmdline: /x\nfiles:\n  /x: nothere\n' >Capstanfile
expect 65 "missing host file" "$CAPSTAN" build
one_line "$ERR" "missing file is one line"
has "$ERR" "nothere" "missing file named"
mkdir -p d && echo 1 >d/x && echo 2 >y
printf 'cmdline: /x\nfiles:\n  /d: d\n  /d/x: y\n' >Capstanfile
expect 65 "guest path given twice" "$CAPSTAN" build
has "$ERR" "guest path '/d/x' listed twice" "duplicate guest path named"
printf 'cmdline: /x\nfiles:\n  /a: y\n  /a: y\n' >Capstanfile
expect 65 "same guest key twice" "$CAPSTAN" build
has "$ERR" "duplicate guest path '/a'" "duplicate key named"
printf 'cmdline: /x\nfiles:\n  /: d\n' >Capstanfile
expect 0 "a folder at /" "$CAPSTAN" build -q rootdir
printf 'cmdline: /x\nfiles:\n  /: y\n' >Capstanfile
expect 65 "a file at /" "$CAPSTAN" build -q
has "$ERR" "'/' can only be a folder" "a file at / refused"
"$CAPSTAN" rmi rootdir >/dev/null 2>&1
mkfifo fifo
printf 'cmdline: /x\nfiles:\n  /f: fifo\n' >Capstanfile
expect 65 "special file" "$CAPSTAN" build
has "$ERR" "fifo' is not a file, folder or symbolic link" "special file named"
printf 'base: nobody/nothing\ncmdline: /x\n' >Capstanfile
expect 65 "missing base" "$CAPSTAN" build
has "$ERR" "nobody/nothing" "missing base named"
one_line "$ERR" "missing base is one line"
printf 'base: capstan/base\ncmdline: /x\n' >Capstanfile
expect 69 "unreachable registry" "$CAPSTAN" build -u http://127.0.0.1:9/ -q fresh --root "$TESTDIR/other-root"
one_line "$ERR" "unreachable registry is one line"
printf 'base: capstan/base\nbuild: sleep 1\ncmdline: /x\nfiles:\n  /y: y\n' >Capstanfile
"$CAPSTAN" build -q >"$OUT" 2>"$ERR" &
pid=$!
sleep 0.4
kill -TERM $pid
wait $pid
RC=$?
[ "$RC" = 74 ] && ok "SIGTERM stops the build (exit 74)" || fail "SIGTERM stops the build (exit $RC, wanted 74)"
has "$ERR" 'interrupted' "interruption named"
[ -e "$repo/bad" ] && fail "no image after the errors" || ok "no image after the errors"
ls -a "$repo" | grep -q '\.tmp\.' && fail "no temporary files left" || ok "no temporary files left"

# The generated project of 'capstan init' builds as it stands.
cd "$TESTDIR" || exit 1
CAPSTAN_DATADIR="$CAPSTAN_BUILD_ROOT" "$CAPSTAN" init -q proj >/dev/null
(cd proj && "$CAPSTAN" build -q) >"$OUT" 2>"$ERR"
RC=$?
[ "$RC" = 0 ] && ok "init project builds" || fail "init project builds"
dump proj
has "$TESTDIR/dump" '^cmdline /proj$' "init project cmdline"

# Capstan's -m: accepted, no effect (build boots no VM), and -v says so
cd "$TESTDIR/proj" || exit 1
expect 0 "build -m 512M" "$CAPSTAN" build -m 512M
hasnt "$ERR" . "build -m is quiet without -v"
expect 0 "build -m 1G -v" "$CAPSTAN" build -v --memory 1G
has "$ERR" '^-m 1024 MiB: ignored, capstan build boots no VM$' "-v says -m has no effect"
expect 64 "build -m with a bad size" "$CAPSTAN" build -m lots
one_line "$ERR" "bad -m is one line"

# Capstan's rpm-base is named as such, not taken for a typo of 'base'
mkdir -p "$TESTDIR/rpm" && cd "$TESTDIR/rpm" || exit 1
printf 'cmdline: /x
rpm-base:
  name: openjdk
  version: "8"
' >Capstanfile
expect 65 "rpm-base" "$CAPSTAN" build
has "$ERR" "Capstanfile:2:1: 'rpm-base' is a Capstan key that capstan does not support" "rpm-base named"
hasnt "$ERR" "did you mean" "no 'did you mean' for rpm-base"
one_line "$ERR" "rpm-base is one line"
done_testing
