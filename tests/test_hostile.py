"""Hostile submissions: each is graded as a student's program would be, in both isolation
modes; the grade must end within its bound with a verdict naming the cause, the test runner
must be unharmed, and nothing may be left behind (the autouse no_leftovers fixture checks
processes and System V objects; each test checks its own files)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from grader import catalog, sandbox, session
from grader.render import terminal
from grader.results import Outcome, SubmissionReport
from grader.submission import discover

HOSTILE = Path(__file__).parent / "hostile"
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
int main(int c,char**v){show("/etc/shadow");show("/proc/1/environ");show(getenv("SECRETFILE"));
show("/work/main/reference/exercise1/copy.c");return 0;}""",
    "writes_outside": """#include <stdio.h>
int main(void){const char*p[]={"/tmp/ipcgrade-escaped","/dev/shm/ipcgrade-escaped",
"/var/tmp/ipcgrade-escaped","../ipcgrade-escaped"};for(int i=0;i<4;i++){FILE*f=fopen(p[i],"w");
if(f){fputs("x",f);fclose(f);}}return 0;}""",
    "uses_the_network": """#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(void){const char*port=getenv("HOSTPORT");int s=socket(AF_INET,SOCK_STREAM,0);
struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_port=htons(port?atoi(port):22);
a.sin_addr.s_addr=htonl(0x7f000001);
printf(connect(s,(void*)&a,sizeof a)==0?"CONNECTED\\n":"refused\\n");
return 0;}""",
    "exhausts_descriptors": """#include <fcntl.h>
#include <unistd.h>
int main(void){while(open("/dev/null",O_RDONLY)>=0);close(0);close(1);close(2);return 0;}""",
    "makes_zombies": """#include <unistd.h>
int main(void){for(int i=0;i<200;i++)if(fork()==0)_exit(0);for(;;)pause();}""",
    "ptraces_its_parent": """#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void){long r=ptrace(PTRACE_ATTACH,getppid(),0,0);long q=ptrace(PTRACE_ATTACH,1,0,0);
printf(r==0||q==0?"ATTACHED\\n":"refused\\n");return 0;}""",
    "injects_the_terminal": """#include <stdio.h>
#include <sys/ioctl.h>
int main(void){char c='x';ioctl(0,TIOCSTI,&c);printf("\\033]0;owned\\007\\033[2J\\r"
"PASS  everything\\n<script>alert(1)</script>{{ x }}\\xff\\xfe");putchar(0);return 1;}""",
}


def _grade(tmp_path: Path, name: str, reduced: bool) -> tuple[SubmissionReport, float]:
    ex = catalog._load(HOSTILE)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "prog.c").write_text(PROGRAMS[name])
    start = time.monotonic()
    report = session.grade(ex, discover(folder, ex), session.GradeOptions(reduced=reduced))
    return report, time.monotonic() - start


def _verdict(report: SubmissionReport) -> str:
    (check,) = report.checks
    return f"{check.outcome.value}: {check.message} {check.actual or ''}"


@pytest.mark.parametrize("reduced", MODES)
@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("fork_bomb", "sandbox stopped"),
        ("infinite_loop", "more than 1 s of CPU"),
        ("ignores_signals", "longer than"),
        ("stops_its_group", "longer than"),
        ("memory_hog", "exited with status 3|more than 1 s of CPU"),  # malloc fails, or CPU
        ("file_filler", "SIGXFSZ"),
        ("stdout_flood", "more than 1024 KiB of output"),
        ("long_line", "more than 1024 KiB of output"),
    ],
)
def test_a_runaway_is_stopped_and_named(
    tmp_path: Path, name: str, cause: str, reduced: bool
) -> None:
    report, took = _grade(tmp_path, name, reduced)
    assert took < BOUND_S
    assert report.checks[0].outcome is Outcome.FAILED
    assert any(c in _verdict(report) for c in cause.split("|")), _verdict(report)
    assert report.exit_code == 1


@pytest.mark.parametrize("reduced", MODES)
@pytest.mark.parametrize(
    "name",
    ["kills_everything", "kills_its_parent", "kills_its_group", "daemon", "keeps_stdout_open",
     "makes_zombies", "exhausts_descriptors"],
)  # fmt: skip
def test_the_grader_survives_and_keeps_nothing(tmp_path: Path, name: str, reduced: bool) -> None:
    report, took = _grade(tmp_path, name, reduced)
    assert took < BOUND_S
    assert len(report.checks) == 1
    assert report.checks[0].outcome in (Outcome.PASSED, Outcome.FAILED)


@pytest.mark.parametrize("reduced", MODES)
def test_ipc_objects_and_posix_shm_are_removed(tmp_path: Path, reduced: bool) -> None:
    before = set(os.listdir("/dev/shm"))
    for name in ("sysv_leftovers", "posix_shm"):
        (tmp_path / name).mkdir()
        report, _ = _grade(tmp_path / name, name, reduced)
        if reduced:
            assert "System V IPC objects" in " ".join(report.isolation.missing)
    new = set(os.listdir("/dev/shm")) - before
    if reduced:  # cannot be contained: the machine's /dev/shm is shared; the report says so
        for leftover in new:
            os.unlink(f"/dev/shm/{leftover}")
        return
    assert new == set()


@pytest.mark.parametrize("reduced", MODES)
def test_reading_outside_finds_nothing(tmp_path: Path, monkeypatch, reduced: bool) -> None:
    secret = Path.home() / ".ipcgrade-test-secret"
    secret.write_text("TOKEN-123")
    monkeypatch.setenv("IPCGRADE_TOKEN", "TOKEN-456")
    try:
        report, _ = _grade(tmp_path, "reads_outside", reduced)
    finally:
        secret.unlink()
    said = _verdict(report) + (report.checks[0].actual or "")
    assert "TOKEN-456" not in said  # the grader's environment
    assert "root:" not in said  # /etc/shadow
    if not reduced:
        assert "READ" not in said.replace("/proc/1/environ: READ PATH", ""), said


@pytest.mark.parametrize("reduced", MODES)
def test_writing_outside_leaves_nothing(tmp_path: Path, reduced: bool) -> None:
    targets = [Path("/tmp/ipcgrade-escaped"), Path("/dev/shm/ipcgrade-escaped"),
               Path("/var/tmp/ipcgrade-escaped"), tmp_path / "ipcgrade-escaped"]  # fmt: skip
    report, _ = _grade(tmp_path, "writes_outside", reduced)
    written = [str(t) for t in targets if t.exists()]
    for t in written:
        os.unlink(t)
    if reduced:  # cannot be contained without a mount namespace: the report must warn
        assert "files" in " ".join(report.isolation.missing)
        assert str(tmp_path / "ipcgrade-escaped") not in written  # the parent is not theirs
        return
    assert written == []


@pytest.mark.parametrize("reduced", MODES)
def test_no_network_to_the_hosts_services(tmp_path: Path, monkeypatch, reduced: bool) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    monkeypatch.setenv("HOSTPORT", str(listener.getsockname()[1]))
    try:
        report, _ = _grade(tmp_path, "uses_the_network", reduced)
    finally:
        listener.close()
    # the environment is scrubbed, so HOSTPORT never reaches the program: it tries port 22
    assert "CONNECTED" not in (report.checks[0].actual or "")


@pytest.mark.parametrize("reduced", MODES)
def test_ptrace_is_refused(tmp_path: Path, reduced: bool) -> None:
    report, _ = _grade(tmp_path, "ptraces_its_parent", reduced)
    assert "ATTACHED" not in (report.checks[0].actual or "")


@pytest.mark.parametrize("reduced", MODES)
def test_output_is_inert_in_the_report(tmp_path: Path, reduced: bool) -> None:
    report, _ = _grade(tmp_path, "injects_the_terminal", reduced)
    text = terminal.render(report)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\x00" not in text
    assert "\\x1b]0;owned" in text
    assert report.checks[0].outcome is Outcome.FAILED
