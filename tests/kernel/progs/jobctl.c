/* SPDX-License-Identifier: BSD-3-Clause */
/* Job control: stop signals, SIGCONT, SIGKILL of a stopped child, the statuses wait4 and
 * waitid report, SIGCHLD's CLD_STOPPED/CLD_CONTINUED, orphaned groups, the terminal's
 * SIGTTIN and SIGTTOU for a background group. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "check.h"

/*
 * A child that answers each byte it reads from rd with the same byte on wr; ends at EOF.  It
 * leads a group of its own, as a shell's job: a group is orphaned, and stops other than
 * SIGSTOP do nothing in it, when no member's parent is in another group of the session (as
 * our own group may be, run by a test runner that called setsid), or it leads a new session.
 */
static pid_t echoer(int rd, int wr, int close1, int close2, bool new_session)
{
	pid_t pid = fork();
	if (pid == 0) {
		close(close1);
		close(close2);
		if (new_session ? setsid() < 0 : setpgid(0, 0) < 0)
			_exit(2);
		char c;
		while (read(rd, &c, 1) == 1)
			if (write(wr, &c, 1) != 1)
				_exit(3);
		_exit(0);
	}
	if (!new_session)
		setpgid(pid, pid); /* both sides, as shells do: no race */
	return pid;
}

struct pair {
	int to[2], from[2]; /* the parent writes to[1], reads from[0] */
	pid_t pid;
};

static void start(struct pair *p, bool new_session)
{
	CHECK(pipe(p->to) == 0 && pipe(p->from) == 0);
	p->pid = echoer(p->to[0], p->from[1], p->to[1], p->from[0], new_session);
	close(p->to[0]);
	close(p->from[1]);
}

/* One byte through the child and back: it is running. */
static bool answers(struct pair *p, char c)
{
	char r = 0;
	return write(p->to[1], &c, 1) == 1 && read(p->from[0], &r, 1) == 1 && r == c;
}

static void finish(struct pair *p)
{
	int st;
	close(p->to[1]);
	CHECK(waitpid(p->pid, &st, 0) == p->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p->from[0]);
}

/* The next SIGCHLD (it is blocked, so it waits for us): its code; its status in *status.
 * Linux sends CLD_CONTINUED from the child as it resumes, possibly after our wait returned:
 * so this waits for it rather than looking for it as pending. */
static int chld_code(pid_t pid, int *status)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	siginfo_t si;
	CHECK(sigwaitinfo(&set, &si) == SIGCHLD);
	CHECK(si.si_pid == pid);
	*status = si.si_status;
	return si.si_code;
}

static void on_chld(int sig)
{
	(void)sig;
}

/* SIGSTOP, SIGTSTP and SIGCONT: wait4's statuses once each, SIGCHLD's codes, the blocked
 * read going on after the continue. */
static void stop_continue(void)
{
	struct pair p;
	int st, s = 0;
	start(&p, false);
	CHECK(answers(&p, 'a'));
	CHECK(kill(p.pid, SIGSTOP) == 0);
	CHECK(waitpid(p.pid, &st, WUNTRACED) == p.pid);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP && st == (0x7f | SIGSTOP << 8));
	CHECK(chld_code(p.pid, &s) == CLD_STOPPED && s == SIGSTOP);
	CHECK(waitpid(p.pid, &st, WUNTRACED | WNOHANG) == 0); /* reported once */
	CHECK(kill(p.pid, SIGSTOP) == 0);		      /* stopped already: nothing new */
	CHECK(waitpid(p.pid, &st, WUNTRACED | WNOHANG) == 0);
	CHECK(kill(p.pid, SIGCONT) == 0);
	CHECK(waitpid(p.pid, &st, WCONTINUED) == p.pid);
	CHECK(WIFCONTINUED(st) && st == 0xffff);
	CHECK(chld_code(p.pid, &s) == CLD_CONTINUED && s == SIGCONT);
	CHECK(waitpid(p.pid, &st, WCONTINUED | WNOHANG) == 0);
	CHECK(answers(&p, 'b')); /* its read went on */

	CHECK(kill(p.pid, SIGTSTP) == 0);
	CHECK(waitpid(p.pid, &st, WUNTRACED) == p.pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
	CHECK(chld_code(p.pid, &s) == CLD_STOPPED && s == SIGTSTP);
	CHECK(write(p.to[1], "c", 1) == 1); /* waits in the pipe while it is stopped */
	CHECK(kill(p.pid, SIGCONT) == 0);
	char r = 0;
	CHECK(read(p.from[0], &r, 1) == 1 && r == 'c');
	CHECK(chld_code(p.pid, &s) == CLD_CONTINUED);
	finish(&p);
	CHECK(chld_code(p.pid, &s) == CLD_EXITED && s == 0);
	printf("jobctl: SIGSTOP, SIGTSTP, SIGCONT: wait4 statuses once each, SIGCHLD codes ok\n");
}

/* waitid's WSTOPPED and WCONTINUED, WNOWAIT; SA_NOCLDSTOP; SIGKILL ends a stopped child. */
static void waitid_and_kill(void)
{
	struct pair p;
	siginfo_t si;
	int st, s = 0;
	start(&p, false);
	CHECK(kill(p.pid, SIGTTIN) == 0);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, (id_t)p.pid, &si, WSTOPPED | WNOWAIT) == 0);
	CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_STOPPED && si.si_status == SIGTTIN &&
	      si.si_pid == p.pid);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_ALL, 0, &si, WSTOPPED) == 0 && si.si_code == CLD_STOPPED); /* still there */
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, (id_t)p.pid, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid == 0);
	CHECK(chld_code(p.pid, &s) == CLD_STOPPED && s == SIGTTIN);
	CHECK(kill(p.pid, SIGCONT) == 0);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PGID, (id_t)p.pid, &si, WCONTINUED) == 0);
	CHECK(si.si_code == CLD_CONTINUED && si.si_status == SIGCONT && si.si_pid == p.pid);
	CHECK(waitid(P_PID, (id_t)p.pid, &si, WNOHANG) == -1 && errno == EINVAL); /* no event */
	CHECK(chld_code(p.pid, &s) == CLD_CONTINUED);

	/* SA_NOCLDSTOP: no signal for a stop or a continue, but wait still reports them; and
	 * SIGKILL ends a stopped child: the next SIGCHLD is CLD_KILLED */
	struct sigaction act = {.sa_handler = on_chld, .sa_flags = SA_NOCLDSTOP};
	CHECK(sigaction(SIGCHLD, &act, NULL) == 0);
	CHECK(kill(p.pid, SIGTTOU) == 0);
	CHECK(waitpid(p.pid, &st, WUNTRACED) == p.pid && WSTOPSIG(st) == SIGTTOU);
	CHECK(kill(p.pid, SIGCONT) == 0);
	CHECK(waitpid(p.pid, &st, WCONTINUED) == p.pid && WIFCONTINUED(st));
	CHECK(answers(&p, 'k'));
	CHECK(kill(p.pid, SIGSTOP) == 0);
	CHECK(waitpid(p.pid, &st, WUNTRACED) == p.pid && WIFSTOPPED(st));
	CHECK(kill(p.pid, SIGKILL) == 0);
	CHECK(waitpid(p.pid, &st, 0) == p.pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(chld_code(p.pid, &s) == CLD_KILLED && s == SIGKILL);
	act.sa_flags = 0;
	CHECK(sigaction(SIGCHLD, &act, NULL) == 0);
	close(p.to[1]);
	close(p.from[0]);
	printf(
	    "jobctl: waitid WSTOPPED/WCONTINUED/WNOWAIT, SA_NOCLDSTOP, SIGKILL when stopped ok\n");
}

/* A child blocking SIGTSTP and SIGCONT reports which of them are pending after the parent
 * sent them in turn (byte 's': SIGCONT then SIGTSTP; 'c': SIGTSTP then SIGCONT). */
static void pending_discard(void)
{
	struct pair p;
	CHECK(pipe(p.to) == 0 && pipe(p.from) == 0);
	sigset_t both;
	sigemptyset(&both);
	sigaddset(&both, SIGTSTP);
	sigaddset(&both, SIGCONT);
	p.pid = fork();
	if (p.pid == 0) {
		close(p.to[1]);
		close(p.from[0]);
		struct sigaction act = {.sa_handler = on_chld}; /* SIGCONT queues with a handler */
		sigaction(SIGCONT, &act, NULL);
		sigprocmask(SIG_BLOCK, &both, NULL);
		char c;
		if (write(p.from[1], "r", 1) != 1)
			_exit(2);
		while (read(p.to[0], &c, 1) == 1) {
			sigset_t pend;
			sigpending(&pend);
			char r = (char)('0' + sigismember(&pend, SIGTSTP) * 2 +
					sigismember(&pend, SIGCONT));
			struct timespec zero = {0, 0};
			while (sigtimedwait(&both, NULL, &zero) > 0) /* cleared before the answer */
				;
			if (write(p.from[1], &r, 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	close(p.to[0]);
	close(p.from[1]);
	char r = 0;
	CHECK(read(p.from[0], &r, 1) == 1 && r == 'r');
	CHECK(kill(p.pid, SIGCONT) == 0 && kill(p.pid, SIGTSTP) == 0);
	CHECK(write(p.to[1], "s", 1) == 1 && read(p.from[0], &r, 1) == 1);
	CHECK(r == '2'); /* the stop signal took the SIGCONT away */
	CHECK(kill(p.pid, SIGTSTP) == 0 && kill(p.pid, SIGCONT) == 0);
	CHECK(write(p.to[1], "c", 1) == 1 && read(p.from[0], &r, 1) == 1);
	CHECK(r == '1'); /* SIGCONT took the stop away */
	finish(&p);
	printf("jobctl: a stop signal discards a pending SIGCONT, SIGCONT a pending stop\n");
}

/* A session leader's group is orphaned: SIGTSTP and SIGTTIN do nothing there, SIGSTOP stops. */
static void orphaned(void)
{
	struct pair p;
	int st;
	start(&p, true);
	CHECK(answers(&p, 'x')); /* it has run setsid */
	CHECK(kill(p.pid, SIGTSTP) == 0 && kill(p.pid, SIGTTIN) == 0);
	CHECK(answers(&p, 'y'));
	CHECK(waitpid(p.pid, &st, WUNTRACED | WNOHANG) == 0);
	CHECK(kill(p.pid, SIGSTOP) == 0);
	CHECK(waitpid(p.pid, &st, WUNTRACED) == p.pid && WSTOPSIG(st) == SIGSTOP);
	CHECK(kill(p.pid, SIGCONT) == 0);
	CHECK(answers(&p, 'z'));
	finish(&p);
	printf("jobctl: in an orphaned group SIGTSTP and SIGTTIN are discarded, SIGSTOP stops\n");
}

/* What a child in a background group of our terminal gets for action 'r' (read), 'w'
 * (write) or 't' (tcsetattr), with SIGTTIN/SIGTTOU ignored or not: the signal that stopped
 * it, or 100 + 0 when the call succeeded, 100 + errno when it failed. */
static int background(char action, bool ignore)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (ignore) {
			signal(SIGTTIN, SIG_IGN);
			signal(SIGTTOU, SIG_IGN);
		}
		char c;
		struct termios tio;
		long r = action == 'r'	 ? read(0, &c, 1)
			 : action == 'w' ? write(1, "", 0)
					 : (tcgetattr(0, &tio), tcsetattr(0, TCSANOW, &tio));
		_exit(100 + (r < 0 ? errno : 0));
	}
	setpgid(pid, pid);
	int st, r = -1;
	if (waitpid(pid, &st, WUNTRACED) != pid)
		return -1;
	if (WIFSTOPPED(st)) {
		r = WSTOPSIG(st);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	} else if (WIFEXITED(st)) {
		r = WEXITSTATUS(st);
	}
	return r;
}

/* Only where stdin is our controlling terminal and we are in its foreground group. */
static void terminal(void)
{
	if (tcgetpgrp(0) != getpgrp())
		return;
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(background('r', false) == SIGTTIN);
	CHECK(background('r', true) == 100 + EIO);
	CHECK(background('w', false) == 100); /* TOSTOP is off */
	CHECK(background('t', false) == SIGTTOU);
	CHECK(background('t', true) == 100);
	struct termios tio, old;
	CHECK(tcgetattr(0, &old) == 0);
	tio = old;
	tio.c_lflag |= TOSTOP;
	CHECK(tcsetattr(0, TCSANOW, &tio) == 0);
	CHECK(background('w', false) == SIGTTOU);
	CHECK(background('w', true) == 100);
	CHECK(tcsetattr(0, TCSANOW, &old) == 0);
	struct timespec zero = {0, 0};
	while (sigtimedwait(&chld, NULL, &zero) > 0)
		;
	printf("jobctl: the terminal stops a background read (SIGTTIN), settings and TOSTOP writes "
	       "(SIGTTOU)\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	struct sigaction act = {.sa_handler = on_chld};
	CHECK(sigaction(SIGCHLD, &act, NULL) == 0); /* SIGCHLD queues (it is blocked) */
	CHECK(sigprocmask(SIG_BLOCK, &chld, NULL) == 0);
	stop_continue();
	waitid_and_kill();
	pending_discard();
	orphaned();
	terminal();
	return check_done();
}
