# the language itself: loops, functions, expansions, redirections, exec of the shell again
[ -z "${ZSH_VERSION:-}" ] || setopt sh_word_split # zsh: $SHELL_CMD below is a command and its option
i=0 s=
while [ $i -lt 5 ]; do s="$s$i"; i=$((i + 1)); done
echo "loop: $s"
x=archive.tar.gz
echo "strip: ${x%.gz} ${x#*.} ${#x}"
case $x in *.gz) echo "case: gz" ;; *) echo "case: other" ;; esac
f() { return $(($1 + 1)); }
f 4
echo "function status $?"
set -- a "b c" d
for a in "$@"; do printf '[%s]' "$a"; done
echo
echo data >/tmp/capstan-sh.txt
echo more >>/tmp/capstan-sh.txt
read -r v </tmp/capstan-sh.txt
echo "read: $v"
while read -r l; do echo "line: $l"; done </tmp/capstan-sh.txt
[ -s /tmp/capstan-sh.txt ] && echo "test -s ok"
exec $SHELL_CMD -c 'echo "exec replaced the shell"; exit 7'
