#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Boots the test programs in the unikernel under QEMU (or runs them natively) and checks output and status.
#
# t-progs.sh [--native] [--modes=LIST] CASE...
# t-progs.sh --smp    (the thread programs with 2 vCPUs: direct and kvm modes)
# t-progs.sh --list-cases | --list-progs   (the table below, for meson)
#   Each CASE (table below) names a program, its arguments, its console input,
#   the status it ends with and lines that must appear, in order, on the console.
#   For every build of the program (musl, musl-pie, glibc, glibc-pie) it makes
#   an image with mkimage (with the interpreter and libraries of a dynamic
#   build, found as capstan build finds them) and boots it in each mode:
#     direct  microvm, -kernel, the image as a virtio-mmio disk (TCG)
#     disk    pc, our MBR, the image as a virtio-blk-pci disk (TCG)
#     kvm     microvm direct boot under KVM, where /dev/kvm works
#     append  direct boot with the cmdline in -append, overriding a wrong one
#             on the disk (musl build only)
#     pvhpc   pc, SeaBIOS loading the kernel by PVH (-kernel), virtio-blk-pci
#             (musl build only)
#   --native runs the builds on the host instead, in a copy of the data tree,
#   to check that the expectations are what Linux itself does.
# Environment (set by meson): PROGS (dir with NAME.VARIANT), DATA (tests/kernel/data),
#   KERNEL, MBR, MKIMAGE, PAYLOAD (pvhcheck.elf, to probe KVM); QEMU (default qemu-system-x86_64); BOOT_TIMEOUT (s, default 60; KVM boots get 5 times as long);
#   CPUS (vCPUs of each boot, default 1; above 1, TCG runs one host thread per vCPU).
# Prints one line per boot and "N passed, N failed"; exits 77 when nothing could run.
set -u

native=0
smp=0
modes="direct disk kvm append pvhpc"
while [ $# -gt 0 ]; do
	case $1 in
	--native) native=1 ;;
	--smp) smp=1 ;;
	--modes=*) modes=${1#--modes=} ;;
	*) break ;;
	esac
	shift
done
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
CPUS=${CPUS:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/capstan-kt.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skipped=0

# The exit status mapping of the kernel (src/kernel/power.c, capstan-kernel(7)):
# status s leaves through isa-debug-exit with v = min(s, 127), so QEMU exits
# 2v+1; the precise value is the status line "exit S ..." or "fault S ..."
# that the kernel writes to isa-debugcon (port 0xe9).
qemu_status() {
	local v=$1
	[ "$v" -lt 127 ] || v=127
	echo $((v * 2 + 1))
}

# case NAME PROG STATUS ARGS STDIN EXPECTED-LINE...
#   ARGS are words as the kernel cmdline parses them (quotes, backslashes);
#   the program goes at @PROG@, or first; words before it are --env=K=V
#   or kernel options (dropped natively); STDIN is typed on the console ("" for none);
#   an expected line starting "K:" is checked in the unikernel only, one
#   starting "~" matches any line containing the rest, @INTERP@ stands for
#   the program's ELF interpreter;
#   STATUS is the program's own status, or fault:SIG / refused:N for the kernel's.
cases=()
case_def() { cases+=("$1"); eval "case_$1=(\"\${@:2}\")"; }
case_def hello hello 0 '' '' 'hello, world' 'SUCCESS'
case_def exit0 exitcode 0 '0' '' 'exiting with 0'
case_def exit1 exitcode 1 '1' '' 'exiting with 1'
case_def exit42 exitcode 42 '42' '' 'exiting with 42'
case_def exit125 exitcode 125 '125' '' 'exiting with 125'
case_def exitraw exitcode 7 '7 raw' '' 'exiting with 7'
case_def exit259 exitcode 3 '259' '' 'exiting with 259'
case_def args args 0 "one 'two  words' \"dq \\\"x\\\" 'y'\" back\\\\slash ''" '' \
	'argc=6' 'argv[1]=[one]' 'argv[2]=[two  words]' "argv[3]=[dq \"x\" 'y']" \
	'argv[4]=[back\slash]' 'argv[5]=[]' 'SUCCESS'
case_def env env 0 "--env=CAPSTAN_A=alpha '--env=CAPSTAN_B=b c' @PROG@" '' \
	'env CAPSTAN_A=alpha' 'env CAPSTAN_B=b c' 'CAPSTAN_A=[alpha]' 'CAPSTAN_UNSET=[(unset)]' 'SUCCESS'
case_def execve execve 42 '' '' 'execve: missing -> ENOENT, directory -> EACCES, bad argv -> EFAULT' \
	'second: argc=4' 'second: argv[1]=[--second]' 'second: argv[2]=[two words]' 'second: argv[3]=[]' \
	'second: env CAPSTAN_X=after exec' 'second: env CAPSTAN_EMPTY=' 'second: fd 5 kept, fd 6 closed on exec' 'SUCCESS'
case_def auxv auxv 0 '' '' 'SUCCESS'
case_def stdin stdin 0 '' $'hello\nworld\nquit\n' 'ready' 'line 1: HELLO' 'line 2: WORLD' 'lines=2' 'SUCCESS'
case_def ttymodes ttymodes 0 '' $'hello wxx\x7f\x7forld\njunk\x15kept\none two\x17three\nabc\x0412345678\n\x04xyz' \
	'K:tty: canonical: erase, kill, werase, eof ok' 'K:tty: raw: bytes, VMIN/VTIME ok' 'SUCCESS'
case_def cat cat 0 'data/hello.txt data/dir/a.txt' '' 'hello, file' 'second line' 'a' 'SUCCESS'
case_def files files 0 '' '' 'read: hello, file' 'read: second line' 'SUCCESS'
case_def writefile writefile 0 '' '' 'wrote /tmp/capstan-w.txt and data/new.txt' 'SUCCESS'
case_def iovec iovec 0 '' '' 'writev to stdout' 'SUCCESS'
case_def stat stat 0 '' '' 'stat: size 24, dir, symlink of 9 bytes' 'SUCCESS'
case_def dirs dirs 0 '' '' 'data/dir: a.txt b.txt' 'made: inner.txt sub' 'many: 100 entries' 'SUCCESS'
case_def rename rename 0 '' '' 'rename: done' 'SUCCESS'
case_def links links 0 '' '' 'links: names, nlink, unlink and rename of either ok' 'SUCCESS'
case_def access access 0 '' '' 'access: link -> hello.txt' 'SUCCESS'
case_def fdops fdops 0 '' '' 'via dup' 'via dup2' 'SUCCESS'
case_def tty tty 0 '' '' 'K:stdout is a tty' 'SUCCESS'
case_def bigfile bigfile 0 '' '' 'bigfile: 2 MiB read, pread and mapped' 'SUCCESS'
case_def brk brk 0 '' '' 'brk: grew and shrank 4 MiB' 'SUCCESS'
case_def mmap mmap 0 '' '' 'mmap: anonymous maps ok' 'SUCCESS'
case_def mmapfile mmapfile 0 '' '' 'mmapfile: private mappings ok' 'SUCCESS'
case_def mmapshared mmapshared 0 '' '' 'mmapshared: mappings, read/write, growth, msync, memfd ok' 'SUCCESS'
case_def mmapresv mmapresv 0 '' '' 'mmapresv: a 256 MiB PROT_NONE reservation used in parts ok' 'SUCCESS'
case_def mmapfork mmapfork 0 '' '' 'mmapfork: parent and child shared anonymous, memfd and file mappings' \
	'mmapfork: private mappings stayed private' 'SUCCESS'
case_def sqlitewal sqlitewal 0 '' '' 'sqlitewal: 1000 rows through the WAL and back' 'SUCCESS'
case_def bigmalloc bigmalloc 0 '' '' 'bigmalloc: 48 MiB, 100000 small, realloc to 16 MiB' 'SUCCESS'
case_def vdso vdso 0 '' '' 'vdso: clock_gettime, gettimeofday, time, getcpu under LINUX_2.6' 'SUCCESS'
case_def time time 0 '' '' 'time: clocks advance, sleeps last' 'SUCCESS'
case_def ids ids 0 '' '' 'uid=0 euid=0 gid=0 egid=0' 'SUCCESS'
case_def uname uname 0 '' '' 'sysname=Linux machine=x86_64' 'SUCCESS'
case_def rawsys rawsys 0 '' '' 'rawsys: legacy calls ok' 'SUCCESS'
case_def random random 0 '' '' 'random: ok' 'SUCCESS'
case_def signals signals 0 '' '' 'signals: handlers and mask kept' 'SUCCESS'
case_def tls tls 0 '' '' 'tls: 43' 'SUCCESS'
case_def stack stack 0 '' '' 'stack: 512 KiB array, 10000 frames' 'SUCCESS'
case_def enosys enosys 0 '' '' 'enosys: syscall 1000, 400 and 184 -> ENOSYS' 'SUCCESS'
case_def nosys enosys 0 '--nosys @PROG@ nonl' '' 'SUCCESS' 'no newline at the end' \
	'K:capstan: unimplemented syscalls: tuxcall(184) x1, ?(400) x1'
case_def sockets sockets 0 '' '' 'tcp: connected over loopback' 'tcp: 1 MiB each way intact' \
	'tcp: EOF, then refused once the listener is closed' 'udp: datagrams, truncation, connected send' \
	'socketpair: stream and datagram' 'select: readiness' 'SUCCESS'
case_def sockets6 sockets6 0 '' '' 'tcp6: connected to ::1, accepted from ::1' 'tcp6: 256 KiB each way intact' \
	'dual: IPv4 client accepted as ::ffff:127.0.0.1' 'dual: AF_INET6 client to ::ffff:127.0.0.1 connected' \
	'v6only: IPv4 refused, the port free for an AF_INET listener' \
	'udp6: datagrams over ::1, IPv4 sender seen as ::ffff:127.0.0.1' 'SUCCESS'
case_def unixsock unixsock 0 '' '' 'unix: stream over /tmp/capstan-srv.sock, names, ENOENT once unlinked' \
	'unix: abstract names and autobind' 'unix: datagrams between names, connected and unnamed' \
	'unix: SCM_RIGHTS passes pipes and files, truncation closes the rest' \
	'unix: SO_PEERCRED and SCM_CREDENTIALS name this process' 'SUCCESS'
case_def epoll epoll 0 '' '' 'epoll: a pipe is ready when it holds data or has no writer' 'eventfd: counter and semaphore' 'timerfd: one-shot and periodic' \
	'epoll: level, edge, oneshot, hangup' 'epoll: 4 loopback connections accepted and closed' 'SUCCESS'
case_def timerwait timerwait 0 '' '' 'timerwait: epoll_wait and poll sleep while another timerfd expired unread' \
	'timerwait: a re-armed one-shot item expired, epoll_wait still sleeps' 'SUCCESS'
case_def wakeups wakeups 0 'console' $'typed\n' \
	'wakeups: a pipe written or closed wakes poll, ppoll, select, epoll_wait and read' \
	'wakeups: a FIFO written by another process wakes its poller' \
	'wakeups: an eventfd written by another thread or process wakes poll, epoll_wait and read' \
	'wakeups: AF_UNIX sends and shutdowns wake ppoll, epoll_wait and read' \
	'wakeups: poll on the console woke for [typed]' 'SUCCESS'
case_def pipe pipe 0 '' '' 'pipe: readiness, O_NONBLOCK, EOF and EPIPE ok' 'pipe: 1 MiB through, checksums match' 'SUCCESS'
case_def sigpipe sigpipe fault:13 '' '' 'writing to a pipe without a reader' 'K:~killed by signal 13'
case_def fork fork 0 '' '' 'fork: parent and child wrote the same page, each kept its own' \
	'wait: exit 7, SIGTERM, SIGSEGV, WNOHANG and waitid ok' 'child: from vfork, ppid set' \
	'child: from posix_spawn, ppid set' 'exec: vfork and posix_spawn children ran the program again' \
	'pipe: 1 MiB from a child, in order, then EOF' 'pipeline: generate | transform | check passed 300000 bytes' \
	'sigchld: handler told pid and status; ignored SIGCHLD reaps' \
	'zombies: kept until waited for; an orphan came to its reaper' 'SUCCESS'
case_def sigio sigio 0 '' '' 'sigio: pipes signal their O_ASYNC reader and writer, F_GETOWN, F_GETFL' \
	"sigio: socketpair by FIOASYNC, F_SETSIG's POLL_IN, POLL_OUT, POLL_HUP" \
	'sigio: a child that owns the socket got SIGIO; a reaped pid is ESRCH' \
	'sigio: a process group, F_SETOWN_EX to this thread' \
	'sigio: TCP listener told of a connection, the connection of data' 'SUCCESS'
case_def pgroups pgroups 0 '' '' 'pgroups: setsid, setpgid, kill to a group, to 0 and -1 ok' \
	'pgroups: nice values set, read and inherited' 'SUCCESS'
case_def jobctl jobctl 0 '' '' 'jobctl: SIGSTOP, SIGTSTP, SIGCONT: wait4 statuses once each, SIGCHLD codes ok' \
	'jobctl: waitid WSTOPPED/WCONTINUED/WNOWAIT, SA_NOCLDSTOP, SIGKILL when stopped ok' \
	'jobctl: a stop signal discards a pending SIGCONT, SIGCONT a pending stop' \
	'jobctl: in an orphaned group SIGTSTP and SIGTTIN are discarded, SIGSTOP stops' \
	'K:jobctl: the terminal stops a background read (SIGTTIN), settings and TOSTOP writes (SIGTTOU)' \
	'SUCCESS'
case_def stopkill stopkill 0 '' '' 'stopkill: 300 stopped children killed, each stop and death heard' 'SUCCESS'
case_def fifo fifo 0 '' '' 'fifo: mkfifo, mknod, both ends, O_RDWR ok' 'SUCCESS'
case_def attrs attrs 0 '' '' 'attrs: modes, owners, times, sizes, statfs, ids ok' 'SUCCESS'
case_def procfs procfs 0 "--env=CAPSTAN_P=proc @PROG@ one 'two words'" '' 'procfs: self, maps, fd, machine files ok' 'SUCCESS'
case_def procstate procstate 0 '' '' 'procstate: a child sees pid 1 in /proc/1, itself in /proc/self and thread-self' \
	'procstate: a sleeping child shows S, its parent is us' \
	'procstate: stopped, it shows T in stat and T (stopped) in status' 'procstate: continued, it sleeps again' \
	'procstate: killed, a zombie shows Z; reaped, its directory is gone' 'SUCCESS'
case_def script script 0 '' '' 'script: interpreter got [one  arg] [x] [y z]' 'script: /proc/self/exe ran again' 'SUCCESS'
case_def threads threads 0 '' '' 'threads: 64 joined, counter 12800' 'threads: condition variable turns 8' \
	'threads: barrier of 5 passed' 'threads: detached thread ran' 'threads: pthread_exit while another runs' \
	'threads: two spinning threads both ran' 'threads: floating point kept across preemption' 'threads: pthread_cancel of a thread in pause' 'SUCCESS'
case_def futex futex 0 '' '' 'futex: EAGAIN, EINVAL and timeouts as Linux' 'futex: wake and bitset wake' \
	'futex: requeue and wake-op' 'SUCCESS'
case_def futexfork futexfork 0 '' '' "futexfork: a wake in the parent woke the parent's waiter, not the child's" 'SUCCESS'
case_def sighandle sighandle 0 '' '' 'sighandle: raise ran the handler, siginfo SI_TKILL' \
	'sighandle: kill, on the alternate stack, reset after one' 'sighandle: SIGSEGV handler repaired the mapping' \
	'sighandle: SIGFPE from a division by zero' 'sighandle: blocked signal pending, delivered on unblock' \
	'sighandle: tgkill to a thread, per-thread masks' 'sighandle: setitimer raised SIGALRM 3 times' \
	'sighandle: timer_create signal taken by sigwaitinfo' 'SUCCESS'
case_def cxxthreads cxxthreads 0 '' '' 'cxx: iostream works' 'cxx: caught deep across 50 frames' \
	'cxx: 8 std::threads, total 28000' 'cxx: rethrown from a thread' 'SUCCESS'
case_def gothreads gothreads 0 '' '' 'go: GOMAXPROCS is the CPU count: true' 'go: 100 goroutines sent 4950' \
	'go: 8 goroutines counted 800000' \
	'go: slept, and a timer fired: true' 'SUCCESS'
case_def gopanic gothreads 2 'panic' '' 'go: 8 goroutines counted 800000' 'panic: on purpose' '~goroutine 1 [running]:'
case_def rsthreads rsthreads 0 '' '' 'rust: 8 threads counted 8000, sent 28' 'rust: catch_unwind caught a panic: true' \
	"rust: a thread's panic reached join: true" 'SUCCESS'
case_def rspanic rsthreads 101 'panic' '' "rust: a thread's panic reached join: true" "~thread 'main' panicked at 'on purpose'"
case_def parallel parallel 0 '' '' 'parallel: affinity, sysconf, /proc/cpuinfo and /sys agree on several CPUs' \
	'parallel: two threads ran at once on two CPUs' 'SUCCESS'
case_def clocksmp clocksmp 0 '' '' 'clocksmp: 2000 readings passed between CPU 0 and CPU 1' \
	'clocksmp: CLOCK_MONOTONIC never went back from one CPU to the other' 'SUCCESS'
case_def affinity affinity 0 '' '' 'affinity: empty and offline masks EINVAL, unknown thread ESRCH' \
	'affinity: pinned to one CPU, then another, getcpu always said so' 'affinity: a new thread inherits the mask' \
	'affinity: a thread pinned by tid ran only where it was put' 'affinity: two threads pinned to one CPU shared it' 'SUCCESS'
case_def rtsignals rtsignals 0 '' '' 'rtsignals: 3 queued in order with their values, the standard signal once' \
	'rtsignals: the handler ran 5 times, values in order' 'rtsignals: SIG_IGN dropped the queued ones' \
	'rtsignals: a thread took 3 from rt_tgsigqueueinfo in order' 'SUCCESS'
case_def itimers itimers 0 '' '' 'itimers: EINVAL for a bad timer or timeval, both unarmed at start' \
	'itimers: ITIMER_VIRTUAL counted down while spinning, then came once' \
	'itimers: ITIMER_PROF counted down while spinning, then came once' \
	'itimers: a 500 ms sleep did not use a 100 ms ITIMER_VIRTUAL or ITIMER_PROF' \
	'itimers: setitimer gave the old value and interval, a zero value disarms' \
	'itimers: the intervals reloaded, SIGVTALRM and SIGPROF 3 times each' \
	"itimers: a spinning thread's time reached the process's ITIMER_PROF" \
	'itimers: the CPU-time clocks stood still in a 200 ms sleep, ran while spinning' \
	"itimers: timer_create on the process's and on this thread's CPU time" 'SUCCESS'
case_def clocksleep clocksleep 0 '' '' "clocksleep: the thread's CPU clock EINVAL, raw and coarse clocks EOPNOTSUPP" \
	"clocksleep: TIMER_ABSTIME on the process's CPU clock woke once it passed the time" \
	'clocksleep: a relative sleep on it lasted 200 ms of CPU time' 'SUCCESS'
case_def vecregs vecregs 0 '' '' 'vecregs: 4 threads kept their vector registers across switches and preemption' 'SUCCESS'
case_def fault fault fault:11 '' '' 'about to fault' 'K:~page fault at 0x0'
case_def execseg execseg 0 '' '' 'execseg: initialized data, and a zero bss from p_filesz on' \
	'execseg: data and bss written after fork stayed each process'"'"'s own' \
	'execseg: writing the text or read-only data faults' \
	'execseg: the program run again after writes has its file'"'"'s data and a zero bss' 'SUCCESS'
case_def dlopen dlopen 0 '' '' 'dlopen: dlplug says 42' 'SUCCESS'
case_def dynamic dynamic 0 '' '' '~dynamic: hello from dynamic.' "dynamic: again, exec'd" 'SUCCESS'

# The thread programs, which --smp boots with 2 vCPUs as well; the cases in
# smp_only need 2 CPUs and always get them (natively: skipped on one CPU).
smp_cases="threads futex signals sighandle cxxthreads gothreads gopanic rsthreads rspanic parallel clocksmp affinity rtsignals itimers wakeups clocksleep vecregs"
smp_only="parallel clocksmp"

# The table is the one list of kernel tests: meson asks for it at configure time.
case ${1:-} in
--list-cases) printf '%s\n' "${cases[@]}"; exit 0 ;;
--list-progs)
	for c in "${cases[@]}"; do eval "echo \${case_$c[0]}"; done | sort -u
	exit 0
	;;
esac

# Checks that every expected line occurs as a whole line of $1, in order.
lines_in_order() {
	local out=$1
	shift
	local l
	: >"$tmp/want"
	for l in "$@"; do
		case $l in
		K:*) [ $native = 1 ] || printf '%s\n' "${l#K:}" >>"$tmp/want" ;;
		*) printf '%s\n' "$l" >>"$tmp/want" ;;
		esac
	done
	tr -d '\r' <"$out" | awk -v want="$tmp/want" '
		BEGIN { n = 0; while ((getline l < want) > 0) w[n++] = l; i = 0 }
		i < n && substr(w[i], 1, 1) == "~" && index($0, substr(w[i], 2)) { i++; next }
		i < n && $0 == w[i] { i++ }
		END { if (i < n) { print "missing line: " w[i]; exit 1 } }'
}

result() { # result OK|FAIL|SKIP LABEL [WHY]
	case $1 in
	OK) pass=$((pass + 1)); echo "ok   $2" ;;
	SKIP) skipped=$((skipped + 1)); echo "skip $2: $3" ;;
	*) fail=$((fail + 1)); echo "FAIL $2: $3" ;;
	esac
}

# The builds of one program: the dynamic ones are a pair of their own; C++ (cxx*) is glibc only; Go (go*) and Rust (rs*) one each.
variants_of() {
	case $1 in
	dynamic | dlopen) echo "dynamic musl-dynamic" ;;
	cxx* | sqlitewal) echo "glibc glibc-pie" ;; # sqlitewal: Debian's libsqlite3.a is glibc's
	go*) echo "go" ;;
	rs*) echo "rust" ;;
	*) echo "musl musl-pie glibc glibc-pie" ;;
	esac
}

# Splits ARGS the way the kernel does into the array words (no expansions).
split_words() {
	words=()
	[ -n "$1" ] && eval "words=($1)"
	return 0
}

# KVM works when the PVH test payload boots under it (nested KVM may refuse).
have_kvm() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -e "${PAYLOAD:-}" ] || return 1
	timeout 20 "$QEMU" -M microvm -accel kvm -cpu host,-arch-capabilities -nodefaults \
		-no-user-config -display none -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel "$PAYLOAD" </dev/null >/dev/null 2>&1
	[ $? = 33 ]
}

run_native() { # run_native LABEL BIN STATUS ARGS STDIN EXPECTED...
	local label=$1 bin=$2 want=$3 args=$4 input=$5
	shift 5
	case $want in refused:*) result SKIP "$label" "runs on Linux"; return ;; esac
	split_words "$args"
	local envs=() argv=() w
	case " ${words[*]} " in *" @PROG@ "*) ;; *) words=(@PROG@ "${words[@]}") ;; esac
	while [ "${words[0]}" != @PROG@ ]; do # --env=K=V, or a kernel option
		case ${words[0]} in --env=*) envs+=("${words[0]#--env=}") ;; esac
		words=("${words[@]:1}")
	done
	argv=("${words[@]:1}")
	rm -rf "$tmp/root" && mkdir "$tmp/root" && cp -a "$DATA" "$tmp/root/data"
	local st
	(cd "$tmp/root" && printf '%s' "$input" | env "${envs[@]}" "$bin" "${argv[@]}") >"$tmp/out" 2>&1
	st=$?
	case $want in fault:*) want=$((128 + ${want#fault:})) ;; esac
	if [ "$st" != "$want" ]; then result FAIL "$label" "status $st, want $want"; sed 's/^/    /' "$tmp/out"; return; fi
	if ! why=$(lines_in_order "$tmp/out" "$@"); then result FAIL "$label" "$why"; sed 's/^/    /' "$tmp/out"; return; fi
	result OK "$label"
}

run_boot() { # run_boot MODE LABEL BIN STATUS ARGS STDIN EXPECTED...
	local mode=$1 label=$2 bin=$3 want=$4 args=$5 input=$6
	shift 6
	local img=$tmp/disk.img name interp exp=()
	interp=$(readelf -lW "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	for l in "$@"; do exp+=("${l//@INTERP@/$interp}"); done
	set -- "${exp[@]}"
	name=/bin/$(basename "$bin")
	rm -f "$img"
	local files=("$name=$bin" "/data=$DATA")
	local cmdline=${args/@PROG@/$name}
	[ "$cmdline" != "$args" ] || cmdline="$name${args:+ }$args"
	local diskcmd=$cmdline
	[ $mode != append ] || diskcmd="/bin/not-this-one"
	if ! "$MKIMAGE" "$img" --kernel "$KERNEL" --mbr "$MBR" --cmdline "$diskcmd" --deps "${files[@]}" >"$tmp/mk" 2>&1; then
		result FAIL "$label" "mkimage: $(head -1 "$tmp/mk")"
		return
	fi
	local tcg=tcg
	[ "$cpus" = 1 ] || tcg=tcg,thread=multi # one host thread per vCPU, as capstan run does
	local q=("$QEMU" -nodefaults -no-user-config -display none -serial stdio -no-reboot -m 128M -smp "$cpus"
		-device isa-debug-exit,iobase=0xf4,iosize=4
		-chardev "file,id=status,path=$tmp/status" -device isa-debugcon,iobase=0xe9,chardev=status)
	rm -f "$tmp/status"
	case $mode in
	direct) q+=(-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel "$tcg" -kernel "$KERNEL"
		-drive "id=d0,file=$img,format=raw,if=none" -device virtio-blk-device,drive=d0) ;;
	kvm) q+=(-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel kvm -cpu host,-arch-capabilities
		-kernel "$KERNEL" -drive "id=d0,file=$img,format=raw,if=none" -device virtio-blk-device,drive=d0) ;;
	disk) q+=(-M pc -accel "$tcg" -drive "file=$img,format=raw,if=virtio") ;;
	pvhpc) q+=(-M pc -accel "$tcg" -kernel "$KERNEL" -drive "file=$img,format=raw,if=virtio") ;;
	append) q+=(-M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel "$tcg" -kernel "$KERNEL"
		-append "$cmdline" -drive "id=d0,file=$img,format=raw,if=none" -device virtio-blk-device,drive=d0) ;;
	esac
	local st
	# Under this kind of host's KVM (kvm_pvm: shadow paging) page faults are
	# slow enough that bigmalloc needs minutes on a loaded machine.
	local limit=$BOOT_TIMEOUT
	[ $mode != kvm ] || limit=$((BOOT_TIMEOUT * 5))
	printf '%s' "$input" | timeout -k 5 "$limit" "${q[@]}" >"$tmp/out" 2>&1
	st=$?
	local hs ks
	case $want in
	fault:*) ks=$((128 + ${want#fault:})) ;;
	refused:*) ks=${want#refused:} ;;
	*) ks=$want ;;
	esac
	hs=$(qemu_status "$ks")
	if [ "$st" = 124 ] || [ "$st" = 137 ]; then result FAIL "$label" "timed out after ${limit}s"; sed 's/^/    /' "$tmp/out"; return; fi
	if [ "$st" != "$hs" ]; then result FAIL "$label" "qemu status $st, want $hs"; sed 's/^/    /' "$tmp/out"; return; fi
	if ! why=$(lines_in_order "$tmp/out" "$@"); then result FAIL "$label" "$why"; sed 's/^/    /' "$tmp/out"; return; fi
	local line
	line=$(grep -E '^(exit|fault|panic)' "$tmp/status" 2>/dev/null | tail -1)
	if [ "$(echo "$line" | awk '{ print $2 }')" != "$ks" ]; then
		result FAIL "$label" "status line '$line', want status $ks"
		return
	fi
	result OK "$label"
}

if [ $smp = 1 ]; then
	set -- $smp_cases
	CPUS=2
	modes="direct kvm"
fi
[ $# -gt 0 ] || set -- "${cases[@]}"
# The data tree of every image: tests/kernel/data plus a generated 2 MiB file.
mkdir "$tmp/data" && cp -a "$DATA/." "$tmp/data/" || exit 1
if ! "$PROGS/bigfile.glibc" --make "$tmp/data/big.bin"; then echo "cannot make big.bin"; exit 1; fi
cp "$PROGS/dlplug.glibc.so" "$PROGS/dlplug.musl.so" "$tmp/data/" || exit 1
DATA=$tmp/data
kvm_ok=0
if [ $native = 0 ]; then
	for v in MKIMAGE KERNEL MBR; do
		[ -e "${!v:-}" ] || { echo "skip: $v not built (${!v:-unset})"; exit 77; }
	done
	case " $modes " in *" kvm "*) have_kvm && kvm_ok=1 ;; esac
fi
for c in "$@"; do
	ref="case_$c[@]"
	spec=("${!ref}")
	[ ${#spec[@]} -gt 0 ] || { result FAIL "$c" "no such case"; continue; }
	prog=${spec[0]} want=${spec[1]} args=${spec[2]} input=${spec[3]}
	exp=("${spec[@]:4}")
	cpus=$CPUS
	case " $smp_only " in *" $c "*) [ "$cpus" -ge 2 ] || cpus=2 ;; esac
	for v in $(variants_of "$prog"); do
		bin=$PROGS/$prog.$v
		[ -x "$bin" ] || { result FAIL "$c.$v" "$bin not built"; continue; }
		if [ $native = 1 ]; then
			if [ "$cpus" -gt "$(nproc)" ]; then result SKIP "$c.$v native" "needs $cpus CPUs"; continue; fi
			run_native "$c.$v native" "$bin" "$want" "$args" "$input" "${exp[@]}"
			continue
		fi
		for m in $modes; do
			if [ $m = kvm ] && [ $kvm_ok = 0 ]; then result SKIP "$c.$v kvm" "no usable /dev/kvm"; continue; fi
			# Known issues under nested KVM (this machine itself a VM); they pass under TCG
			# and stress-smp.sh still runs them (STRESS_PARALLEL=1).  Two vCPUs have at
			# times not both run the spinners of `parallel` within 300 s.  Under kvm_pvm a
			# program runs in ring 3 with the host's XCR0, AVX and AVX-512 on, whatever the
			# kernel set (x87|SSE), and the kernel cannot save AVX state there (XSAVE in ring
			# 0 stops the VM): a thread switched out keeps only its SSE state.  vecregs shows
			# it in every boot.  Go's AVX memmove lost the upper halves of its YMM registers
			# between loads and stores (its first store faulted a fresh page in) and wrote
			# zeros into allgs: the GC crash of 1 boot in 20 to 100 with 2 vCPUs.
			if [ $m = kvm ] && [ -z "${STRESS_PARALLEL:-}" ]; then
				if [ "$c" = parallel ] && grep -qw hypervisor /proc/cpuinfo; then
					result SKIP "$c.$v kvm" "nested KVM: two vCPUs do not reliably run at once"
					continue
				fi
				if [ -d /sys/module/kvm_pvm ] && { [ "$c" = vecregs ] || { [ "$v" = go ] && [ "$cpus" -ge 2 ]; }; }; then
					result SKIP "$c.$v kvm" "kvm_pvm: programs use AVX, whose state the kernel cannot switch there"
					continue
				fi
			fi
			case $m.$v in
			append.musl | append.dynamic | pvhpc.musl | pvhpc.dynamic | append.go | pvhpc.go | append.rust | pvhpc.rust) ;;
			append.* | pvhpc.*) continue ;;
			esac
			run_boot $m "$c.$v $m" "$bin" "$want" "$args" "$input" "${exp[@]}"
		done
	done
done
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail = 0 ] || exit 1
[ $pass -gt 0 ] || exit 77
exit 0
