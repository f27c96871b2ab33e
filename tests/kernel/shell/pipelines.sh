# external commands: pipelines, $(...), here-docs and -strings into them, find -exec, tar -z,
# timeout, trap, children's statuses, a loop
bb=busybox
$bb seq 1 200 | $bb grep 7 | $bb wc -l
echo "sum: $($bb seq 1 100 | $bb awk '{ s += $1 } END { print s }')"
n=$($bb echo nested $($bb echo inner))
echo "n=$n"
$bb tr a-z A-Z <<EOF2
here-doc into an external command, $((6 * 7))
EOF2
$bb cat <<'EOF2' | $bb sort -r
alpha
gamma
beta
EOF2
if [ -n "${BASH_VERSION:-}" ]; then # here-strings: bash's (ash has none)
	eval '$bb tr a-z A-Z <<<"here-string into an external command"; read -r w <<<"one two"'
	echo "w=$w"
fi
false | true
echo "pipeline status $?"
true | false
echo "pipeline status $?"
$bb mkdir -p work/a/b
for i in 1 2 3; do echo "file $i" >"work/a/b/f$i.txt"; done
$bb find work -name '*.txt' -exec $bb cat {} \; | $bb sort
$bb find work -type f | $bb sort
$bb tar -czf work.tgz work
$bb rm -r work
$bb tar -xzf work.tgz
$bb cat work/a/b/f2.txt
$bb zcat work.tgz | $bb tar -tf - | $bb sort
$bb timeout 1 $bb sleep 10
echo "timeout status $?"
$bb timeout 10 $bb true
echo "no timeout status $?"
trap 'echo "trap on EXIT, last status $?"' EXIT
i=0
while [ $i -lt 30 ]; do
	$bb true || echo "true failed"
	i=$((i + 1))
done
echo "ran $i external commands"
$bb sh -c 'exit 3'
echo "child shell status $?"
$bb sh -c 'kill -TERM $$'
echo "killed child status $?"
x=$($bb printf '%s' "no newline")
echo "[$x]"
$bb rm -r work work.tgz
$bb false
