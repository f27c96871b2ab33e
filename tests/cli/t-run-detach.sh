#!/usr/bin/env bash
# capstan run -d, instances, logs, stop, delete under TCG; 20 detached runs at once; reconcile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pvh/lib.sh"
pvh_image || { echo "cannot build the PVH test guest"; exit 1; }
export CAPSTAN_DISABLE_KVM=1
cleanup() { "$CAPSTAN" instances -a --json 2>/dev/null | python3 -c 'import json,sys; [print(i["name"]) for i in json.load(sys.stdin)]' 2>/dev/null | xargs -r "$CAPSTAN" delete >/dev/null 2>&1; rm -rf "$TESTDIR"; }
trap cleanup EXIT

expect 0 "run -d" "$CAPSTAN" run -d --name sleeper test/pvh -e sleep
[ "$(cat "$OUT")" = "sleeper" ] && ok "run -d prints the name" || fail "run -d prints the name"
expect 0 "instances" "$CAPSTAN" instances
has "$OUT" '^NAME +IMAGE +BACKEND +STATE +ADDRESS +PORTS +CREATED$' "instances header"
has "$OUT" '^sleeper +test/pvh +qemu +running +- +- +[0-9]+ seconds? ago$' "the instance runs"
expect 0 "instances via alias I" "$CAPSTAN" I
has "$OUT" '^sleeper ' "alias I lists it"
for _ in $(seq 100); do "$CAPSTAN" logs sleeper | grep -q 'pvh: sleep' && break; sleep 0.1; done
# A live name is in use: an error, and the running instance is untouched.
expect 65 "a running name is refused" "$CAPSTAN" run --name sleeper test/pvh -e 1 </dev/null
one_line "$ERR" "name in use: one-line error"
has "$ERR" "instance 'sleeper' is running" "name in use names the instance"
expect 0 "logs" "$CAPSTAN" logs sleeper
has "$OUT" '^pvh: sleep$' "logs shows the console"
pid=$(field sleeper pid)
[ -d "/proc/$pid" ] && grep -q qemu "/proc/$pid/comm" && ok "the pid is QEMU's" || fail "the pid is QEMU's"

# logs -f follows until the instance ends; stop ends it gracefully.
"$CAPSTAN" logs -f sleeper >"$TESTDIR/follow" 2>&1 &
follower=$!
sleep 0.5
expect 0 "stop" "$CAPSTAN" stop sleeper
has "$OUT" '^Stopped instance: sleeper \(powered off\)$' "stop says it was graceful"
wait $follower
[ $? = 0 ] && ok "logs -f ends with the instance" || fail "logs -f ends with the instance"
has "$TESTDIR/follow" '^pvh: power button$' "logs -f saw the power button"
[ "$(field sleeper state)" = stopped ] && ok "state stopped" || fail "state stopped"
[ ! -d "/proc/$pid" ] && ok "QEMU is gone" || fail "QEMU is gone"
expect 0 "instances hides stopped ones by default" "$CAPSTAN" instances
hasnt "$OUT" '^sleeper ' "stopped instance not listed without -a"
expect 0 "instances -a" "$CAPSTAN" instances -a
has "$OUT" '^sleeper .* stopped ' "stopped instance listed with -a"
expect 0 "stop again" "$CAPSTAN" stop sleeper
has "$OUT" 'is not running' "stopping a stopped instance says so"

# A guest that ignores the power button is stopped by force, and stop says so.
expect 0 "run -d --boot disk (sits in the firmware)" "$CAPSTAN" run -d --boot disk --name firm test/pvh
expect 0 "stop -t 1" "$CAPSTAN" stop -t 1 firm
has "$OUT" '^Stopped instance: firm \(forced' "stop says it was forced"

# A detached program's exit status is recorded by its supervisor.
expect 0 "run -d a program that exits 7" "$CAPSTAN" run -d --name seven test/pvh -e 7
for _ in $(seq 100); do [ "$(field seven state)" = running ] || break; sleep 0.1; done
[ "$(field seven status)" = "exited (7)" ] && ok "detached exit status recorded" || fail "detached exit status recorded ($(field seven status))"

# A VM killed behind capstan's back is reconciled to crashed, never left running.
expect 0 "run -d victim" "$CAPSTAN" run -d --name victim test/pvh -e sleep
kill -9 "$(field victim pid)"
sleep 0.3
[ "$(field victim state)" = crashed ] && ok "killed VM shows as crashed" || fail "killed VM shows as crashed ($(field victim state))"

expect 0 "delete a running instance" "$CAPSTAN" run -d --name del test/pvh -e sleep
dpid=$(field del pid)
expect 0 "delete" "$CAPSTAN" delete del
has "$OUT" '^Deleted instance: del$' "delete reports"
[ ! -e "$CAPSTAN_ROOT/instances/qemu/del" ] && [ "$(field del name)" = "-" ] && [ ! -d "/proc/$dpid" ] &&
	ok "delete stopped it and removed folder and row" || fail "delete stopped it and removed folder and row"
expect 65 "delete an unknown instance" "$CAPSTAN" delete nope
one_line "$ERR" "unknown instance: one line"
expect 65 "logs of an unknown instance" "$CAPSTAN" logs nope
expect 65 "stop an unknown instance" "$CAPSTAN" stop nope
expect 64 "stop without a name" "$CAPSTAN" stop

# 20 at once: 20 rows, 20 VMs, no error.
for i in $(seq 1 20); do
	"$CAPSTAN" run -d --name "par$i" -m 8M test/pvh -e sleep >"$TESTDIR/par$i.out" 2>&1 &
done
bad=0
for job in $(jobs -p); do wait "$job" || bad=$((bad + 1)); done
[ $bad = 0 ] && ok "20 parallel run -d succeed" || { fail "20 parallel run -d succeed ($bad failed)"; cat "$TESTDIR"/par*.out | sort | uniq -c | head; }
"$CAPSTAN" instances --json >"$TESTDIR/par.json"
n=$(python3 -c 'import json,sys; print(len([i for i in json.load(open(sys.argv[1])) if i["name"].startswith("par") and i["state"]=="running"]))' "$TESTDIR/par.json")
[ "$n" = 20 ] && ok "20 rows running" || fail "20 rows running ($n)"
vms=$(pgrep -fc -- "-name capstan-par[0-9]+ ")
[ "$vms" = 20 ] && ok "20 QEMU processes" || fail "20 QEMU processes ($vms)"
expect 0 "instances --json parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TESTDIR/par.json"
expect 0 "delete all 20" "$CAPSTAN" delete $(seq -f 'par%g' 1 20)
[ "$(pgrep -fc -- "-name capstan-par[0-9]+ ")" = 0 ] && ok "no QEMU left" || fail "no QEMU left"
done_testing
