# traps run for signals the shell sends itself
trap 'echo "caught USR1"' USR1
kill -USR1 $$
echo "after USR1"
trap 'echo "caught INT"; trap - INT' INT
kill -INT $$
echo "after INT"
trap 'echo "exit trap"' EXIT
exit 4
