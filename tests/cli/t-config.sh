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

# Capstan's own config.yaml (its Installation guide, plus qemu_aio_type and release_tag)
printf 'repo_url: file:///srv/capstan\ndisable_kvm: true\nqemu_aio_type: native\nrelease_tag: v0.53.0\n' >"$cfg"
expect 0 "Capstan's config.yaml works" "$CAPSTAN" images
[ "$(grep -c . "$ERR")" = 1 ] && ok "one warning" || fail "one warning"
has "$ERR" "^capstan: warning: $cfg: ignoring Capstan settings capstan does not use: qemu_aio_type, release_tag\$" \
	"the warning names the settings"
expect 0 "config print" "$CAPSTAN" config print
has "$OUT" '^--- global configuration$' "config print: Capstan's header"
has "$OUT" "^CAPSTAN_ROOT: $CAPSTAN_ROOT\$" "config print: root"
has "$OUT" '^CAPSTAN_REPO_URL: file:///srv/capstan$' "config print: repo_url from config.yaml"
has "$OUT" '^CAPSTAN_DISABLE_KVM: true$' "config print: disable_kvm from config.yaml"
has "$OUT" '^CAPSTAN_QEMU_PATH: \(searched in PATH\)$' "config print: qemu path"
CAPSTAN_REPO_URL=file:///env expect 0 "config print with the environment" "$CAPSTAN" config print -u file:///flag
has "$OUT" '^CAPSTAN_REPO_URL: file:///flag$' "config print: -u wins"
expect 0 "config print with a password in the URL" "$CAPSTAN" config print -u https://ci:s3cret@registry.example/capstan
has "$OUT" '^CAPSTAN_REPO_URL: https://\*\*\*@registry.example/capstan$' "config print: the URL's credentials are masked"
hasnt "$OUT" 's3cret' "config print: the password is not printed"
expect 0 "config print --json with a password" "$CAPSTAN" config print --json -u https://ci:s3cret@registry.example/
hasnt "$OUT" 's3cret' "config print --json: the password is not printed"
CAPSTAN_DISABLE_KVM=0 expect 0 "config print --json" "$CAPSTAN" config print --json
[ "$(cat "$OUT")" = "{\"root\":\"$CAPSTAN_ROOT\",\"repo_url\":\"file:///srv/capstan\",\"disable_kvm\":false,\"qemu_path\":null}" ] &&
	ok "config print --json" || fail "config print --json"
printf 'repo_url: x\nqemu_aoi_type: native\n' >"$cfg"
expect 65 "a typo of ours is still an error" "$CAPSTAN" images
printf 'release-tag: x\n' >"$cfg"
expect 65 "a typo of Capstan's is an error" "$CAPSTAN" images
rm "$cfg"
expect 64 "config without print" "$CAPSTAN" config
expect 64 "config show" "$CAPSTAN" config show
one_line "$ERR" "config show is one line"

# -v: alone, the version (Capstan's 'capstan -v'); with a command, verbose
expect 0 "capstan -v" "$CAPSTAN" -v
[ "$(cat "$OUT")" = "$("$CAPSTAN" --version)" ] && ok "capstan -v prints the version" || fail "capstan -v prints the version"
expect 0 "capstan -v with a command" "$CAPSTAN" -v images
hasnt "$OUT" '^capstan version' "-v with a command is not the version"

CAPSTAN_DISABLE_KVM=perhaps expect 64 "bad CAPSTAN_DISABLE_KVM" "$CAPSTAN" images
has "$ERR" "CAPSTAN_DISABLE_KVM: expected true or false, got 'perhaps'" "bad env message"
mkdir "$cfg"
expect 74 "config.yaml is a folder" "$CAPSTAN" images
one_line "$ERR" "unreadable config is one line"
done_testing
