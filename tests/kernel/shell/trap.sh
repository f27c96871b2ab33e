# the exit trap, and ignored signals the shell sends itself
trap 'echo "exit trap, status $?"' EXIT
trap '' USR1
kill -USR1 $$
echo "USR1 ignored"
echo body done
exit 3
