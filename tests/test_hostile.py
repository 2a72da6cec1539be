"""Hostile submissions: each is graded as a student's program would be, in both isolation
modes; the grade must end within its bound with a verdict naming the cause, the test runner
must be unharmed, and nothing may be left behind (the autouse no_leftovers fixture checks
the runner's children and System V objects; each grade here also looks for processes of
student uids, new files in /dev/shm, and files the program wrote outside). Each grade adds
a row to the table printed at the end of the run."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader import catalog, sandbox, session
from grader.render import json as json_render
from grader.render import terminal
from grader.report import SubmissionReport
from grader.results import CheckResult, Outcome
from grader.submission import discover

HOSTILE = Path(__file__).parent / "hostile"
needs_userns = pytest.mark.skipif(not sandbox.detect().userns, reason="needs user namespaces")
BOUND_S = 30  # a whole hostile grade, build included
MODES = [
    pytest.param(False, id="full", marks=pytest.mark.skipif(
        not sandbox.detect().userns, reason=f"needs user namespaces: {sandbox.detect().why_not}")),
    pytest.param(True, id="reduced"),
]  # fmt: skip

PROGRAMS = {
    "fork_bomb": "#include <unistd.h>\nint main(void){for(;;)fork();}",
    "infinite_loop": "int main(void){volatile unsigned long i=0;for(;;)i++;}",
    "ignores_signals": """#include <signal.h>
#include <unistd.h>
int main(void){signal(SIGTERM,SIG_IGN);signal(SIGINT,SIG_IGN);signal(SIGHUP,SIG_IGN);
if(fork()==0){sigset_t all;sigfillset(&all);sigprocmask(SIG_BLOCK,&all,0);}
for(;;)pause();}""",
    "stops_its_group": """#include <signal.h>
#include <unistd.h>
int main(void){if(fork()==0){for(;;)pause();}kill(0,SIGSTOP);for(;;)pause();}""",
    "memory_hog": """#include <stdlib.h>
#include <string.h>
int main(void){for(;;){char*p=malloc(1<<20);if(!p)return 3;memset(p,1,1<<20);}}""",
    "file_filler": """#include <stdio.h>
int main(void){FILE*f=fopen("big","w");static char b[1<<16];for(;;)fwrite(b,1,sizeof b,f);}""",
    "stdout_flood": """#include <stdio.h>
int main(void){static char b[1<<16];for(int i=0;i<sizeof b;i++)b[i]='y';
for(;;)fwrite(b,1,sizeof b,stdout);}""",
    "long_line": """#include <stdio.h>
int main(void){for(long i=0;i<100000000;i++)putchar('x');return 0;}""",
    "kills_everything": """#include <signal.h>
int main(void){kill(-1,SIGKILL);return 0;}""",
    "kills_its_parent": """#include <signal.h>
#include <unistd.h>
int main(void){kill(getppid(),SIGKILL);kill(getppid(),SIGSTOP);return 0;}""",
    "kills_its_group": """#include <signal.h>
int main(void){kill(0,SIGKILL);return 0;}""",
    "daemon": """#include <unistd.h>
int main(void){if(fork()==0){setsid();if(fork()==0){for(;;)pause();}_exit(0);}return 0;}""",
    "keeps_stdout_open": """#include <unistd.h>
int main(void){if(fork()==0){for(;;)pause();}return 0;}""",
    "sysv_leftovers": """#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
int main(void){int id=shmget(IPC_PRIVATE,32<<20,IPC_CREAT|0600);char*p=shmat(id,0,0);
if(p!=(void*)-1)memset(p,1,32<<20);msgget(4242,IPC_CREAT|0600);return 0;}""",
    "posix_shm": """#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void){int fd=shm_open("/ipcgrade-hostile",O_CREAT|O_RDWR,0600);
ftruncate(fd,1<<20);return 0;}""",
    "reads_outside": """#include <stdio.h>
#include <stdlib.h>
static void show(const char*p){FILE*f=fopen(p,"r");char b[4096];size_t n;
if(!f){printf("%s: refused\\n",p);return;}n=fread(b,1,sizeof b-1,f);b[n]=0;
for(size_t i=0;i<n;i++)if(!b[i])b[i]='\\n';printf("%s: READ %s\\n",p,b);fclose(f);}
int main(int c,char**v){show("/etc/shadow");show("/proc/1/environ");show("%HOME%");
show("%OTHER%");show("%REFERENCE%");show("%CHECKOUT%");show("/container_info.json");
show("/proc/%GRADER%/environ");return 1;}""",
    "writes_outside": """#include <stdio.h>
int main(void){const char*p[]={"/tmp/ipcgrade-escaped","/dev/shm/ipcgrade-escaped",
"/var/tmp/ipcgrade-escaped","%PARENT%/ipcgrade-escaped","%HOME%/ipcgrade-escaped"};
for(int i=0;i<5;i++){FILE*f=fopen(p[i],"w");if(f){fputs("x",f);fclose(f);}}return 0;}""",
    "uses_the_network": """#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(void){const char*port=getenv("HOSTPORT");int s=socket(AF_INET,SOCK_STREAM,0);
struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_port=htons(port?atoi(port):22);
a.sin_addr.s_addr=htonl(0x7f000001);
printf(connect(s,(void*)&a,sizeof a)==0?"CONNECTED\\n":"refused\\n");
int t=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in b={0};b.sin_family=AF_INET;
b.sin_port=htons(80);b.sin_addr.s_addr=htonl(0xC0000201);/* 192.0.2.1, out on the network */
int r=connect(t,(void*)&b,sizeof b);printf(r==0?"OUT CONNECTED\\n":"out: %s\\n",strerror(errno));
return 1;}""",
    "exhausts_descriptors": """#include <fcntl.h>
#include <unistd.h>
int main(void){while(open("/dev/null",O_RDONLY)>=0);close(0);close(1);close(2);return 0;}""",
    "lists_writable_mounts": """#include <stdio.h>
#include <string.h>
int main(void){FILE*f=fopen("/proc/self/mountinfo","r");char l[8192],p[4096],o[1024];
if(!f){puts("no mountinfo");return 1;}
while(fgets(l,sizeof l,f))if(sscanf(l,"%*s %*s %*s %*s %4095s %1023s",p,o)==2)
printf("MOUNT %s %s\\n",strncmp(o,"rw",2)||(o[2]!=','&&o[2])?"ro":"rw",p);return 1;}""",
    "makes_zombies": """#include <unistd.h>
int main(void){for(int i=0;i<200;i++)if(fork()==0)_exit(0);for(;;)pause();}""",
    "ptraces_its_parent": """#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void){DIR*d=opendir("/proc");struct dirent*e;int tried=0;printf("parent %d\\n",getppid());
while(d&&(e=readdir(d))){int pid=atoi(e->d_name);if(pid<=0||pid==getpid())continue;tried++;
if(ptrace(PTRACE_ATTACH,pid,0,0)==0)printf("ATTACHED %d\\n",pid);char p[64];
snprintf(p,sizeof p,"/proc/%d/mem",pid);int fd=open(p,O_RDWR);
if(fd>=0){printf("MEM OPENED %d\\n",pid);close(fd);}}printf("tried %d processes\\n",tried);
return 1;}""",
    "many_memory_hogs": """#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void){int p[2];pipe(p);for(int i=0;i<14;i++)if(fork()==0){close(p[0]);char*m;
while((m=malloc(8<<20)))memset(m,1,8<<20);write(p[1],"x",1);close(p[1]);pause();_exit(0);}
close(p[1]);char c;while(read(p[0],&c,1)>0);return 0;}""",
    "fills_the_disk": """#include <stdio.h>
int main(void){static char b[1<<20];int n=0;for(int i=0;i<40;i++){char p[64];
snprintf(p,sizeof p,"filler-%d",i);FILE*f=fopen(p,"w");if(!f)break;int ok=1;
for(int k=0;k<8&&ok;k++)ok=fwrite(b,1,sizeof b,f)==sizeof b;if(fclose(f)!=0||!ok)break;n++;}
printf("wrote %d MiB\\n",n*8);return 1;}""",
    "fills_shared_memory": """#include <stdio.h>
int main(void){static char b[1<<20];int n=0;for(int i=0;i<150;i++){char p[64];
snprintf(p,sizeof p,"/dev/shm/ipcgrade-fill-%d",i);FILE*f=fopen(p,"w");if(!f)break;int ok=1;
for(int k=0;k<8&&ok;k++)ok=fwrite(b,1,sizeof b,f)==sizeof b;if(fclose(f)!=0||!ok)break;n++;}
printf("wrote %d MiB\\n",n*8);return 1;}""",
    "opens_terminals_and_disks": """#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
int main(void){const char*p[]={"%PTS%","/dev/console","/dev/tty1","/dev/kmsg","/dev/vda",
"/dev/sda","/dev/mem"};for(int i=0;i<7;i++)printf("%s: %s\\n",p[i],
open(p[i],O_RDWR)>=0?"OPENED":"refused");struct stat st;stat("/dev/pts/ptmx",&st);
printf("ptys of device %lu\\n",(unsigned long)st.st_dev);return 1;}""",
    "escapes_by_system_calls": """#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
static void say(const char*what,long r){printf("%s: %s\\n",what,r<0?strerror(errno):"DONE");}
int main(void){struct io_uring_params p;memset(&p,0,sizeof p);
say("keyctl",syscall(SYS_keyctl,0,-3,0));say("io_uring",syscall(SYS_io_uring_setup,1,&p));
say("unshare",unshare(CLONE_NEWUSER));say("mount",mount("none","/tmp","tmpfs",0,0));
int m=posix_openpt(O_RDWR|O_NOCTTY);grantpt(m);unlockpt(m);int s=open(ptsname(m),O_RDWR);
char c='x';say("TIOCSTI",ioctl(s,TIOCSTI,&c));return 1;}""",
    "attacks_the_terminal": """#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
static void attack(int fd){struct termios t;if(tcgetattr(fd,&t)==0){t.c_lflag&=~(ECHO|ICANON);
tcsetattr(fd,TCSANOW,&t);}const char*cmd="touch /tmp/ipcgrade-injected\\n";
for(const char*c=cmd;*c;c++)ioctl(fd,TIOCSTI,c);}
int main(void){for(int fd=0;fd<3;fd++)attack(fd);int t=open("/dev/tty",O_RDWR);
if(t>=0)attack(t);return 0;}""",
    "injects_the_terminal": """#include <stdio.h>
#include <sys/ioctl.h>
int main(void){char c='x';ioctl(0,TIOCSTI,&c);printf("\\033]0;owned\\007\\033[2J\\r"
"PASS  everything\\n<script>alert(1)</script>{{ x }}\\xff\\xfe\\n"
"  PASSED  all checks\\n\\"}, \\"score\\": 99, \\"passed\\": true, \\"x\\": {\\"a\\": \\"\\n"
"score 10/10 \\342\\200\\224 all checks passed\\n");putchar(0);return 1;}""",
}


# programs that end by themselves once done, however slow a busy machine makes them: their
# verdict is not the wall clock's, which gets a generous limit here
ENDS_BY_ITSELF = {"many_memory_hogs": 20, "fills_shared_memory": 20, "fills_the_disk": 20}

CHECKOUT = Path(__file__).resolve().parent.parent
REFERENCE = CHECKOUT / "reference" / "exercise1" / "copy.c"
# what stopped each threat, for the table: the layer that is meant to
STOPPED_BY = {
    "fork_bomb": "RLIMIT_NPROC; the process-count guard kills the group; pids cgroup",
    "infinite_loop": "RLIMIT_CPU",
    "ignores_signals": "wall-clock limit, SIGKILL of the group, cleanup of the rest",
    "stops_its_group": "wall-clock watchdog outside the group",
    "memory_hog": "RLIMIT_AS: malloc fails",
    "many_memory_hogs": "memory cgroup of the grade's students (the kernel's OOM kills)",
    "fills_shared_memory": "64 MiB tmpfs (full); memory cgroup and uid sweep (reduced)",
    "file_filler": "RLIMIT_FSIZE",
    "fills_the_disk": "its folder is in the grade's 64 MiB tmpfs (full); RLIMIT_FSIZE per file, "
    "removed after (reduced)",
    "stdout_flood": "output cap: the writer is killed",
    "long_line": "output cap: the writer is killed",
    "kills_everything": "PID namespace / own uid: nothing of the grader's to kill",
    "kills_its_parent": "own uid: the grader cannot be signalled",
    "kills_its_group": "its own group only",
    "daemon": "cleanup kills what escaped (subreaper, cgroup, uid sweep)",
    "keeps_stdout_open": "the grade waits for the exit, not end-of-file",
    "makes_zombies": "RLIMIT_NPROC and the process-count guard",
    "exhausts_descriptors": "RLIMIT_NOFILE",
    "sysv_leftovers": "IPC namespace (full); removal by uid (reduced)",
    "posix_shm": "private /dev/shm (full); removal by uid (reduced, as root)",
    "reads_outside": "mount namespace hides them (full); uid and file modes (reduced)",
    "writes_outside": "read-only mounts (full); uid sweep of /tmp, /var/tmp, /dev/shm (reduced)",
    "uses_the_network": "network namespace (full); scrubbed environment (reduced)",
    "escapes_by_system_calls": "seccomp filter",
    "opens_terminals_and_disks": "a /dev of its own, with its own ptys (full); uid (reduced)",
    "ptraces_its_parent": "seccomp filter (ptrace), uid and PR_SET_DUMPABLE 0 (/proc/PID/mem)",
    "attacks_the_terminal": "no terminal of the user's: stdin /dev/null, own session",
    "injects_the_terminal": "every byte escaped by the renderer",
}


def _student_processes(uids: set[int]) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
            except OSError:
                continue
            if uid in uids:
                try:
                    state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
                except (OSError, IndexError):
                    continue
                found.append(f"{entry.name} ({state})")
    return found


def _grade(
    tmp_path: Path, name: str, reduced: bool, table: list[tuple[str, ...]] | None = None,
    on_a_terminal: bool = False,
) -> tuple[SubmissionReport, float]:  # fmt: skip
    ex = catalog._load(HOSTILE)
    folder = tmp_path / "student"
    folder.mkdir()
    source = PROGRAMS[name]
    for token, value in (("%HOME%", str(Path.home())), ("%PARENT%", str(tmp_path)),
                         ("%OTHER%", str(tmp_path / "other-student" / "copy.c")),
                         ("%REFERENCE%", str(REFERENCE)),
                         ("%CHECKOUT%", str(CHECKOUT / "pyproject.toml")),
                         ("%GRADER%", str(os.getpid()))):  # fmt: skip
        source = source.replace(token, value)
    (folder / "prog.c").write_text(source)
    if on_a_terminal:
        (folder / "on-a-terminal").touch()
    if name in ENDS_BY_ITSELF:
        (folder / "wall-s").write_text(str(ENDS_BY_ITSELF[name]))
    shm_before = set(os.listdir("/dev/shm"))
    start = time.monotonic()
    report = session.grade(ex, discover(folder, ex), session.GradeOptions(reduced=reduced))
    took = time.monotonic() - start
    uids = {int(w) for layer in report.isolation.layers if "run as uid" in layer
            for w in layer.replace(",", " ").split() if w.isdigit()}  # fmt: skip
    left = [f"process {p}" for p in _student_processes(uids)]
    left += [f"/dev/shm/{f}" for f in set(os.listdir("/dev/shm")) - shm_before]
    left += [str(p) for p in Path(tempfile.gettempdir()).glob(f"ipcgrade-{os.getpid()}-*")]
    if table is not None:
        check = report.checks[0]
        said = " ".join([_said(check), *(f"warning: {w}" for w in check.warnings)])
        seen = f"{check.outcome.value}: " + " ".join(said.split())[:220]
        table.append((name, "reduced" if reduced else "full", STOPPED_BY[name], seen,
                      f"{took:.1f} s", ", ".join(left) or "none"))  # fmt: skip
    return report, took


def _said(check: CheckResult) -> str:
    """What the student reads first: what the sandbox did, then the check's message."""
    return " ".join([*(f"{a.text}." for a in check.sandbox), check.message])


def _verdict(report: SubmissionReport) -> str:
    check, later = report.checks
    assert later.outcome is Outcome.PASSED, later.message  # the grade goes on unharmed
    return f"{check.outcome.value}: {_said(check)} {check.actual or ''}"


def _left(table: list[tuple[str, ...]]) -> str:
    return table[-1][-1]


@pytest.mark.parametrize("reduced", MODES)
@pytest.mark.parametrize(
    ("name", "cause", "reason"),
    [
        ("fork_bomb", "ran more than 16 processes at once", "processes"),
        ("infinite_loop", "more than 1 s of CPU", "cpu"),
        ("ignores_signals", "longer than", "wall"),
        ("stops_its_group", "longer than", "wall"),
        (
            "memory_hog",
            "or a child it waited for used up its memory (128 MiB of address space",
            "memory",
        ),
        ("file_filler", "it wrote a file larger than its limit, 8 MiB (SIGXFSZ)", "output"),
        ("stdout_flood", "more than 1024 KiB of output", "output"),
        ("long_line", "more than 1024 KiB of output", "output"),
    ],
)
def test_a_runaway_is_stopped_and_named(
    tmp_path: Path,
    hostile_table: list[tuple[str, ...]],
    name: str,
    cause: str,
    reason: str,
    reduced: bool,
) -> None:
    report, took = _grade(tmp_path, name, reduced, hostile_table)
    assert took < BOUND_S
    assert report.checks[0].outcome is Outcome.FAILED
    assert any(c in _verdict(report) for c in cause.split("|")), _verdict(report)
    # what the sandbox did is its own field, not the check's message
    actions = report.checks[0].sandbox
    assert any(a.action == "stopped" and a.reason == reason and cause in a.text
               for a in actions), actions  # fmt: skip
    assert all(a.pid is not None and a.program for a in actions), actions
    assert cause not in report.checks[0].message
    assert ("used up its memory" in _verdict(report)) == (name == "memory_hog"), _verdict(report)
    assert report.exit_code == 1
    assert _left(hostile_table) == "none"
    # stopped by the grader: what it kills with the program is not the program's fault
    assert not report.checks[0].warnings


@pytest.mark.parametrize("reduced", MODES)
def test_memory_of_many_processes_is_bounded_for_the_grade(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    report, took = _grade(tmp_path, "many_memory_hogs", reduced, hostile_table)
    assert took < BOUND_S
    assert _left(hostile_table) == "none"
    if any("control group" in m for m in report.isolation.missing):
        # not root: each process is bounded (RLIMIT_AS), the grade is not, and it says so;
        # its 14 processes of 128 MiB fit, and are killed once it has ended
        assert "still running after prog ended" in " ".join(report.checks[0].warnings)
        return
    assert report.checks[0].outcome is Outcome.FAILED
    assert "for want of memory: a grade may use 768 MiB" in _verdict(report), _verdict(report)


@pytest.mark.parametrize("reduced", MODES)
def test_many_files_cannot_fill_the_disk(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    """Each file is capped (RLIMIT_FSIZE, 8 MiB here); 40 of them would be 320 MiB."""
    report, took = _grade(tmp_path, "fills_the_disk", reduced, hostile_table)
    assert took < BOUND_S
    said = _verdict(report)
    assert "wrote " in said, said
    if reduced:  # its folder is on the machine's disk (removed after): the report warns
        assert "files" in " ".join(report.isolation.missing)
        return
    assert int(said.split("wrote ")[1].split()[0]) <= sandbox.TMPFS_MB, said
    assert f"the grade's /tmp filled up: it holds {sandbox.TMPFS_MB} MiB" in said, said


@pytest.mark.parametrize("reduced", MODES)
def test_shared_memory_files_are_bounded_and_removed(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    report, took = _grade(tmp_path, "fills_shared_memory", reduced, hostile_table)
    assert took < BOUND_S
    left = _left(hostile_table)
    said = _verdict(report)
    if not reduced:  # the grade's own 64 MiB tmpfs
        assert f"wrote {sandbox.TMPFS_MB} MiB" in said, said  # no more than the tmpfs holds
        assert "the grade's /dev/shm filled up" in said, said
    elif os.geteuid() != 0:  # the machine's /dev/shm, the user's uid: cannot be contained
        for f in Path("/dev/shm").glob("ipcgrade-fill-*"):
            f.unlink()
        assert any("control group" in m for m in report.isolation.missing)
        return
    else:  # the students' memory cgroup stops it (or, reclaiming, its CPU time); swept after
        assert "for want of memory" in said or "more than 1 s of CPU" in said, said
    assert left == "none"


@pytest.mark.parametrize("reduced", MODES)
@pytest.mark.parametrize(
    "name",
    ["kills_everything", "kills_its_parent", "kills_its_group", "daemon", "keeps_stdout_open",
     "makes_zombies", "exhausts_descriptors"],
)  # fmt: skip
def test_the_grader_survives_and_keeps_nothing(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], name: str, reduced: bool
) -> None:
    if reduced and os.geteuid() != 0 and name == "kills_its_parent":
        reduced_caps = dataclasses.replace(sandbox.detect(), userns=False, why_not="asked")
        assert "processes" in " ".join(reduced_caps.isolation().missing)
        pytest.skip("not root, no namespaces: students run as the user, and may kill the "
                    "grader's worker (the report warns that processes are shared)")  # fmt: skip
    report, took = _grade(tmp_path, name, reduced, hostile_table)
    assert took < BOUND_S
    assert len(report.checks) == 2
    assert report.checks[1].outcome is Outcome.PASSED, report.checks[1].message
    assert report.checks[0].outcome in (Outcome.PASSED, Outcome.FAILED)
    assert _left(hostile_table) == "none"
    if name in ("daemon", "keeps_stdout_open"):  # what outlived the program is named
        (warning,) = report.checks[0].warnings
        assert "was still running after prog ended: the grader killed it" in warning
        assert ("in a session of its own" in warning) == (name == "daemon"), warning


@pytest.mark.parametrize("reduced", MODES)
def test_ipc_objects_and_posix_shm_are_removed(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    for name in ("sysv_leftovers", "posix_shm"):
        (tmp_path / name).mkdir()
        report, _ = _grade(tmp_path / name, name, reduced, hostile_table)
        if reduced:
            assert "System V IPC objects" in " ".join(report.isolation.missing)
        if reduced and os.geteuid() != 0:  # the user's uid in the machine's /dev/shm
            for f in Path("/dev/shm").glob("ipcgrade-hostile*"):
                f.unlink()
            continue
        assert _left(hostile_table) == "none"


ANCESTORS = r"""#include <stdio.h>
#include <string.h>
#include <unistd.h>
static int ppid_of(int pid){char p[64],b[1024];snprintf(p,sizeof p,"/proc/%d/stat",pid);
FILE*f=fopen(p,"r");if(!f)return 0;size_t n=fread(b,1,sizeof b-1,f);b[n]=0;fclose(f);
char*r=strrchr(b,')');int pp=0;if(r)sscanf(r+2,"%*c %d",&pp);return pp;}
int main(void){int pid=getppid();for(int i=0;i<6&&pid>0;i++){char p[64];static char b[1<<16];
snprintf(p,sizeof p,"/proc/%d/environ",pid);FILE*f=fopen(p,"r");
if(!f)printf("%d: refused\n",pid);else{size_t n=fread(b,1,sizeof b-1,f);b[n]=0;fclose(f);
for(size_t j=0;j<n;j++)if(!b[j])b[j]=' ';printf("%d: READ %s\n",pid,b);}pid=ppid_of(pid);}
return 1;}"""

GRADE_IN_A_PROCESS = """import json, sys
from pathlib import Path
from grader import catalog, session
from grader.submission import discover
ex = catalog._load(Path(sys.argv[1]))
report = session.grade(ex, discover(Path(sys.argv[2]), ex),
                       session.GradeOptions(reduced=sys.argv[3] == "reduced"))
print(json.dumps([report.checks[0].actual or "", report.isolation.missing]))
"""


@pytest.mark.parametrize("reduced", MODES)
def test_the_graders_environment_is_out_of_reach(tmp_path: Path, reduced: bool) -> None:
    """A CI's token in the grader's environment: the student program reads the environment
    of each of its ancestors, the grader's among them, and finds no token."""
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "prog.c").write_text(ANCESTORS)
    env = dict(os.environ, IPCGRADE_TOKEN="TOKEN-789")  # the grader's alone, from its start
    done = subprocess.run(
        [sys.executable, "-c", GRADE_IN_A_PROCESS, str(HOSTILE), str(folder),
         "reduced" if reduced else "full"],
        env=env, capture_output=True, text=True, timeout=BOUND_S, check=True,
    )  # fmt: skip
    said, missing = json.loads(done.stdout.splitlines()[-1])
    assert ": refused" in said or ": READ" in said, said  # it looked
    assert "TOKEN-789" not in said
    if reduced and os.geteuid() != 0:  # the user's other processes are not out of reach
        assert "environment of this user's other processes" in " ".join(missing)


@pytest.mark.parametrize("reduced", MODES)
def test_reading_outside_finds_nothing(
    tmp_path: Path, monkeypatch, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    secret = Path.home() / ".ipcgrade-test-secret"
    secret.write_text("TOKEN-123")
    secret.chmod(0o600)  # the user's own file, as ssh keys are
    other = tmp_path / "other-student"
    other.mkdir()
    (other / "copy.c").write_text("/* OTHER-STUDENT */")
    # as when `python -m grader` runs from the folder above the checkout: sys.path holds it
    monkeypatch.syspath_prepend(str(CHECKOUT.parent))
    PROGRAMS["reads_outside"] = PROGRAMS["reads_outside"].replace(
        'show("%HOME%")', f'show("{secret}")'
    )
    try:
        report, _ = _grade(tmp_path, "reads_outside", reduced, hostile_table)
    finally:
        secret.unlink()
    said = _verdict(report) + (report.checks[0].actual or "")
    assert "/etc/shadow: refused" in said, said  # it ran, and said what it read
    # the grader's environment: a variable set now is not in /proc/PID/environ, which shows
    # the environment a process started with (test_the_graders_environment_is_out_of_reach)
    assert f"/proc/{os.getpid()}/environ: " in said, said
    if reduced and os.geteuid() != 0:  # students run as the user: the user's files are theirs
        assert "files" in " ".join(report.isolation.missing)
        return
    assert "TOKEN-123" not in said  # a private file of the user's
    assert "root:" not in said  # /etc/shadow
    if not reduced:  # not there: other students' work, the reference solutions, the rest
        # of the machine (the checkout's own files, anything outside /usr, /etc and the
        # grader's folders)
        assert "OTHER-STUDENT" not in said
        assert "READ" not in said.replace("/proc/1/environ: READ PATH", ""), said


@needs_userns
def test_without_a_root_of_its_own_the_private_folders_are_still_hidden(
    tmp_path: Path, monkeypatch
) -> None:
    """Where pivot_root fails, the machine's root is shown read-only, with the user's home,
    the reference solutions and the other submissions hidden: and the report says so."""
    monkeypatch.setenv("IPCGRADE_NO_PIVOT", "1")
    secret = Path.home() / ".ipcgrade-test-secret"
    secret.write_text("TOKEN-123")
    other = tmp_path / "other-student"
    other.mkdir()
    (other / "copy.c").write_text("/* OTHER-STUDENT */")
    try:
        report, _ = _grade(tmp_path, "reads_outside", False)
    finally:
        secret.unlink()
    said = report.checks[0].actual or ""
    assert f"{REFERENCE}: refused" in said, said
    assert "OTHER-STUDENT" not in said
    assert "TOKEN-123" not in said
    assert any("IPCGRADE_NO_PIVOT" in m for m in report.isolation.missing)


@pytest.mark.parametrize("reduced", MODES)
def test_writing_outside_leaves_nothing(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    targets = [Path("/tmp/ipcgrade-escaped"), Path("/dev/shm/ipcgrade-escaped"),
               Path("/var/tmp/ipcgrade-escaped"), tmp_path / "ipcgrade-escaped",
               Path.home() / "ipcgrade-escaped"]  # fmt: skip
    report, _ = _grade(tmp_path, "writes_outside", reduced, hostile_table)
    written = [str(t) for t in targets if t.exists()]
    for t in written:
        os.unlink(t)
    if reduced:  # nothing can be closed without a mount namespace: the report warns
        assert "files" in " ".join(report.isolation.missing)
        if os.geteuid() != 0:  # students run as the user: the user's files are theirs
            return
    assert str(tmp_path / "ipcgrade-escaped") not in written  # the parent is not theirs
    assert str(Path.home() / "ipcgrade-escaped") not in written  # nor the user's home
    assert written == []  # full: read-only; reduced as root: the grade's uid is swept


@pytest.mark.parametrize("reduced", MODES)
def test_no_network_to_the_hosts_services(
    tmp_path: Path, monkeypatch, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    monkeypatch.setenv("HOSTPORT", str(listener.getsockname()[1]))
    try:
        report, _ = _grade(tmp_path, "uses_the_network", reduced, hostile_table)
    finally:
        listener.close()
    # the environment is scrubbed, so HOSTPORT never reaches the program: it tries port 22
    said = report.checks[0].actual or ""
    assert "CONNECTED" not in said  # neither the host's loopback nor out on the network
    assert "out: " in said, said
    if not reduced:  # no route but loopback in the grade's network namespace
        assert "out: Network is unreachable" in said, said


@pytest.mark.parametrize("reduced", MODES)
def test_the_machines_terminals_and_disks_are_out_of_reach(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    """A terminal of the user's (one this test opens, as a shell's would be) and devices."""
    master, slave = os.openpty()
    try:
        PROGRAMS["opens_terminals_and_disks"] = PROGRAMS["opens_terminals_and_disks"].replace(
            "%PTS%", os.ttyname(slave)
        )
        report, _ = _grade(tmp_path, "opens_terminals_and_disks", reduced, hostile_table)
    finally:
        os.close(master)
        os.close(slave)
    said = report.checks[0].actual or ""
    assert "/dev/console: " in said, said  # it ran, and said what it opened
    if reduced and os.geteuid() != 0:  # the user's own terminal is the student's too
        assert "processes" in " ".join(report.isolation.missing)
        return
    assert "OPENED" not in said, said
    if not reduced:  # ptys of its own: it cannot use up the machine's
        assert f"ptys of device {os.stat('/dev/pts/ptmx').st_dev}\n" not in said, said


@pytest.mark.parametrize("reduced", MODES)
def test_ptrace_is_refused(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    """Every process the program can see: neither traced (ptrace) nor written through
    /proc/PID/mem, the worker that inspects it (its parent) above all."""
    report, _ = _grade(tmp_path, "ptraces_its_parent", reduced, hostile_table)
    said = report.checks[0].actual or ""
    tried = int(said.split("tried ")[1].split()[0])
    assert tried >= 1, said  # it ran, and saw its parent at least
    parent = said.split("parent ")[1].split()[0]
    assert f"ATTACHED {parent}\n" not in said
    assert f"MEM OPENED {parent}\n" not in said
    if reduced and os.geteuid() != 0:  # students are the user: the user's other processes
        assert "processes" in " ".join(report.isolation.missing)  # are theirs; it warns
        return
    assert "ATTACHED" not in said, said
    assert "MEM OPENED" not in said, said


@pytest.mark.parametrize("reduced", MODES)
@pytest.mark.parametrize("on_a_terminal", [False, True], ids=["pipes", "terminal"])
def test_escaping_system_calls_are_refused(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool, on_a_terminal: bool
) -> None:
    if sandbox.detect().seccomp_why_not:
        pytest.skip(f"no seccomp here: {sandbox.detect().seccomp_why_not}")
    report, _ = _grade(tmp_path, "escapes_by_system_calls", reduced, hostile_table, on_a_terminal)
    said = report.checks[0].actual or ""
    assert "longer than" not in report.checks[0].message  # it ends by itself
    for call in ("keyctl", "io_uring", "unshare", "mount", "TIOCSTI"):
        assert f"{call}: Operation not permitted" in said, said
    assert any("seccomp" in layer for layer in report.isolation.layers)


@pytest.mark.parametrize("reduced", MODES)
def test_the_users_terminal_is_out_of_reach(tmp_path: Path, reduced: bool) -> None:
    """`grade` run on a terminal: the student's program can neither type into it (TIOCSTI)
    nor turn its echo off."""
    pexpect = pytest.importorskip("pexpect")
    script = textwrap.dedent(f"""
        import fcntl, os, sys, termios, array
        sys.path[:0] = [{str(Path(__file__).parent)!r}]
        from pathlib import Path
        import test_hostile
        test_hostile._grade(Path({str(tmp_path)!r}), "attacks_the_terminal", {reduced})
        pending = array.array("i", [0])
        fcntl.ioctl(0, termios.FIONREAD, pending)
        echo = bool(termios.tcgetattr(0)[3] & termios.ECHO)
        print(f"pending={{pending[0]}} echo={{echo}}")
    """)
    child = pexpect.spawn(sys.executable, ["-c", script], timeout=BOUND_S)  # echo on
    try:
        child.expect(r"pending=(\d+) echo=(\w+)")
        assert child.match.group(1) == b"0"  # nothing typed into the user's terminal
        assert child.match.group(2) == b"True"  # its echo untouched
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert not Path("/tmp/ipcgrade-injected").exists()


@pytest.mark.parametrize("reduced", MODES)
def test_output_is_inert_in_the_report(
    tmp_path: Path, hostile_table: list[tuple[str, ...]], reduced: bool
) -> None:
    """Escape sequences (ANSI, OSC), carriage returns, NUL, invalid UTF-8, markup, template
    syntax, a fake verdict line and a fake JSON fragment: inert text in every renderer."""
    report, _ = _grade(tmp_path, "injects_the_terminal", reduced, hostile_table)
    assert report.checks[0].outcome is Outcome.FAILED
    assert '"score": 99' in (report.checks[0].actual or "")  # it did print its fake JSON
    rendered = json_render.render(report)
    data = json.loads(rendered)  # still one JSON document, with the real verdict
    assert (data["schema"], data["score"], data["passed"]) == (2, 1.0, False)
    assert data["checks"][0]["outcome"] == "failed"
    assert not any(ch in rendered for ch in "\x1b\x07\x00\r")
    text = terminal.render(report)
    assert not any(ch in text for ch in "\x1b\x07\x00\r")
    assert "\\x1b]0;owned" in text
    # the student's lines are quoted ("| "): none reads as a verdict of the grader's
    verdicts = [ln.split()[0] for ln in text.splitlines() if re.match(r"\s*(PASS|FAIL)", ln)]
    assert verdicts == ["FAIL", "PASS"], text  # its two checks', no more
    assert [ln for ln in text.splitlines() if ln.startswith("score ")] == [text.splitlines()[-1]]
    assert text.splitlines()[-1].startswith("score 1/2")


@needs_userns
@pytest.mark.parametrize("own_root", [True, False], ids=["own-root", "no-pivot"])
@pytest.mark.parametrize("by_remounts", [False, True], ids=["mount_setattr", "remounts"])
def test_no_mount_is_writable_but_the_grades_tmp(
    tmp_path: Path, monkeypatch, by_remounts: bool, own_root: bool
) -> None:
    """Full isolation: every mount the student sees is read-only but the grade's own /tmp and
    /dev/shm, whether made so by mount_setattr or, where the kernel has none (before 5.12),
    by remounting each mount."""
    if by_remounts:
        monkeypatch.setenv("IPCGRADE_NO_MOUNT_SETATTR", "1")
    if not own_root:
        monkeypatch.setenv("IPCGRADE_NO_PIVOT", "1")
    report, _ = _grade(tmp_path, "lists_writable_mounts", False)
    said = report.checks[0].actual or ""
    top = {}  # mount point: "rw" or "ro" of the mount on top (the last one mounted there)
    for line in said.splitlines():
        if line.startswith("MOUNT "):
            _, state, point = line.split(" ", 2)
            top[point] = state
    writable = {point for point, state in top.items() if state == "rw"}
    assert "/tmp" in writable, said  # the program did read the mount table
    assert writable <= {"/tmp", "/dev/shm"}, said
    assert not any(m.startswith("read-only root") for m in report.isolation.missing)
