#!/usr/bin/env bash
# Settings: --root > CAPSTAN_ROOT > ~/.capstan; config.yaml errors with file and line:col.
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR"
qemu-img create -q -f raw r.img 1M

# root precedence, observed through where import puts the image
HOME="$TESTDIR/home" expect 0 "default root is ~/.capstan" env -u CAPSTAN_ROOT "$CAPSTAN" import a r.img
[ -f "$TESTDIR/home/.capstan/repository/a/a.raw" ] && ok "image under ~/.capstan" || fail "image under ~/.capstan"
HOME="$TESTDIR/home" CAPSTAN_ROOT="$TESTDIR/envroot" expect 0 "CAPSTAN_ROOT beats the default" "$CAPSTAN" import b r.img
[ -f "$TESTDIR/envroot/repository/b/b.raw" ] && ok "image under \$CAPSTAN_ROOT" || fail "image under \$CAPSTAN_ROOT"
CAPSTAN_ROOT="$TESTDIR/envroot" expect 0 "--root beats CAPSTAN_ROOT" "$CAPSTAN" --root "$TESTDIR/flagroot" import c r.img
[ -f "$TESTDIR/flagroot/repository/c/c.raw" ] && ok "image under --root" || fail "image under --root"
[ -e "$TESTDIR/envroot/repository/c" ] && fail "nothing under \$CAPSTAN_ROOT" || ok "nothing under \$CAPSTAN_ROOT"
CAPSTAN_ROOT="$TESTDIR/envroot" expect 0 "--root after the command" "$CAPSTAN" images --root "$TESTDIR/flagroot"
has "$OUT" '^c ' "images read --root"
hasnt "$OUT" '^b ' "images ignored CAPSTAN_ROOT"

# a good config.yaml is accepted
mkdir -p "$CAPSTAN_ROOT"
cfg="$CAPSTAN_ROOT/config.yaml"
printf 'repo_url: file:///srv/repo\ndisable_kvm: true\nqemu_path: /usr/bin/qemu-system-x86_64\n' >"$cfg"
expect 0 "valid config.yaml" "$CAPSTAN" images
printf '# nothing set\n' >"$cfg"
expect 0 "config.yaml with only a comment" "$CAPSTAN" images

# bad config.yaml: exit 65, one line, file and line:col
printf 'repo_url: x\nrepo-url: y\n' >"$cfg"
expect 65 "unknown setting" "$CAPSTAN" images
[ "$(cat "$ERR")" = "capstan: $cfg:2:1: unknown setting 'repo-url' (did you mean 'repo_url'?)" ] && ok "unknown setting message" || fail "unknown setting message"
printf 'repo_url: [x\n' >"$cfg"
expect 65 "invalid YAML" "$CAPSTAN" images
has "$ERR" "^capstan: $cfg:2:1: " "invalid YAML names line:col"
one_line "$ERR" "invalid YAML is one line"
printf 'disable_kvm: maybe\n' >"$cfg"
expect 65 "disable_kvm not a boolean" "$CAPSTAN" images
[ "$(cat "$ERR")" = "capstan: $cfg:1:14: disable_kvm must be true or false" ] && ok "disable_kvm message" || fail "disable_kvm message"
printf -- '- a\n- b\n' >"$cfg"
expect 65 "config.yaml a list" "$CAPSTAN" images
has "$ERR" "$cfg:1:1: expected a mapping of settings" "list message"
printf 'repo_url:\n  a: b\n' >"$cfg"
expect 65 "nested value" "$CAPSTAN" images
has "$ERR" "$cfg:1:1: settings must be 'key: value' scalars" "nested value message"
rm "$cfg"
CAPSTAN_DISABLE_KVM=perhaps expect 64 "bad CAPSTAN_DISABLE_KVM" "$CAPSTAN" images
has "$ERR" "CAPSTAN_DISABLE_KVM: expected true or false, got 'perhaps'" "bad env message"
mkdir "$cfg"
expect 74 "config.yaml is a folder" "$CAPSTAN" images
one_line "$ERR" "unreadable config is one line"
done_testing
