"""The seccomp layer: a C probe makes each denied call and each everyday one, with and without."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from grader.sandbox import seccomp

needs_seccomp = pytest.mark.skipif(
    bool(seccomp.unavailable()), reason=f"seccomp layer unavailable: {seccomp.unavailable()}"
)
needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")

PROBE_C = r"""
/* For each call: name=OK, name=<errno name>, or name=<signal name> when it killed the process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int pty = -1; /* the slave side of a pty opened by main() */

static int ret(long r) { return r < 0 ? errno : 0; }
static int child_status(pid_t pid, int want) {
    int st;
    if (pid < 0) return errno;
    if (waitpid(pid, &st, 0) < 0) return errno;
    return WIFEXITED(st) && WEXITSTATUS(st) == want ? 0 : EPROTO;
}

static int keyctl_(void) {
    return ret(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
}
static int io_uring_setup_(void) {
    static char params[120]; /* struct io_uring_params, zeroed */
    long fd = syscall(SYS_io_uring_setup, 1, params);
    if (fd >= 0) close(fd);
    return ret(fd);
}
static int unshare_(void) { return ret(unshare(CLONE_NEWUSER)); }
static int raw_clone(unsigned long flags) {
    long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    return pid < 0 ? errno : child_status(pid, 0);
}
static int clone_newuser(void) { return raw_clone(CLONE_NEWUSER | SIGCHLD); }
static int clone_newuser_hibits(void) { return raw_clone((1UL << 32) | CLONE_NEWUSER | SIGCHLD); }
static int clone_newnet(void) { return raw_clone(CLONE_NEWNET | SIGCHLD); }
static int clone3_(void) { return ret(syscall(SYS_clone3, NULL, 0)); }
static int ptrace_(void) { return ret(ptrace(PTRACE_TRACEME, 0, 0, 0)); }
static int process_vm_readv_(void) {
    char src[4] = "abc", dst[4];
    struct iovec l = {dst, 4}, r = {src, 4};
    return ret(process_vm_readv(getpid(), &l, 1, &r, 1, 0));
}
static int tiocsti(void) { char c = '\n'; return ret(ioctl(pty, TIOCSTI, &c)); }
static int tiocsti_hibits(void) {
    char c = '\n';
    return ret(syscall(SYS_ioctl, pty, (1UL << 32) | TIOCSTI, &c));
}
static int tioclinux(void) { char sub = 11; return ret(ioctl(pty, TIOCLINUX, &sub)); }
static int mount_(void) {
    return ret(mount("none", "/nonexistent/ipcgrade-probe", "tmpfs", 0, NULL));
}
static int kill_all(void) { return ret(kill(-1, 0)); } /* signal 0: only the permission */
static int bpf_(void) {
    static char attr[72]; /* union bpf_attr for BPF_MAP_CREATE, zeroed: an invalid map */
    return ret(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof attr));
}
static int int80(void) {
#ifdef __x86_64__
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) /* i386 getpid */ : "memory");
    return r < 0 ? (int)-r : 0;
#else
    return ENOSYS;
#endif
}

static int fork_(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    return child_status(pid, 7);
}
static int vfork_(void) {
    pid_t pid = vfork();
    if (pid == 0) _exit(7);
    return child_status(pid, 7);
}
static void *thread_main(void *arg) { return arg; }
static int pthread_(void) {
    pthread_t t;
    void *out = NULL;
    int e = pthread_create(&t, NULL, thread_main, (void *)42);
    if (e) return e;
    if ((e = pthread_join(t, &out))) return e;
    return out == (void *)42 ? 0 : EPROTO;
}
static int posix_spawn_(void) {
    pid_t pid;
    char *argv[] = {"true", NULL};
    int e = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
    return e ? e : child_status(pid, 0);
}
static int pipe_(void) {
    int fds[2];
    char buf[2];
    if (pipe(fds)) return errno;
    int ok = write(fds[1], "x", 1) == 1 && read(fds[0], buf, 2) == 1 && buf[0] == 'x';
    close(fds[0]);
    close(fds[1]);
    return ok ? 0 : EPROTO;
}
static int shm(void) {
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id < 0) return errno;
    char *p = shmat(id, NULL, 0);
    int e = p == (void *)-1 ? errno : 0;
    if (!e) { strcpy(p, "hi"); shmdt(p); }
    if (shmctl(id, IPC_RMID, NULL) && !e) e = errno;
    return e;
}
static int mmap_shared(void) {
    int *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return errno;
    pid_t pid = fork();
    if (pid == 0) { *p = 42; _exit(0); }
    int e = child_status(pid, 0);
    if (!e && *p != 42) e = EPROTO;
    munmap(p, 4096);
    return e;
}
static int socketpair_(void) {
    int sv[2];
    char buf[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return errno;
    int ok = send(sv[0], "y", 1, 0) == 1 && recv(sv[1], buf, 2, 0) == 1 && buf[0] == 'y';
    close(sv[0]);
    close(sv[1]);
    return ok ? 0 : EPROTO;
}
static int tiocgwinsz(void) { struct winsize ws; return ret(ioctl(pty, TIOCGWINSZ, &ws)); }

static const struct { const char *name; int (*call)(void); } calls[] = {
    {"keyctl", keyctl_}, {"io_uring_setup", io_uring_setup_}, {"unshare", unshare_},
    {"clone_newuser", clone_newuser}, {"clone_newuser_hibits", clone_newuser_hibits},
    {"clone_newnet", clone_newnet}, {"clone3", clone3_}, {"ptrace", ptrace_},
    {"process_vm_readv", process_vm_readv_}, {"tiocsti", tiocsti},
    {"tiocsti_hibits", tiocsti_hibits}, {"tioclinux", tioclinux}, {"mount", mount_},
    {"bpf", bpf_}, {"kill_all", kill_all}, {"int80", int80},
    {"fork", fork_}, {"vfork", vfork_}, {"pthread", pthread_}, {"posix_spawn", posix_spawn_},
    {"pipe", pipe_}, {"shm", shm}, {"mmap_shared", mmap_shared}, {"socketpair", socketpair_},
    {"tiocgwinsz", tiocgwinsz},
};

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) { perror("pty"); return 2; }
    if ((pty = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0) { perror("pts"); return 2; }
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        pid_t pid = fork(); /* each call in its own child: unshare and ptrace change the caller */
        if (pid < 0) { perror("fork"); return 2; }
        if (pid == 0) {
            int e = calls[i].call();
            printf("%s=%s\n", calls[i].name, e ? strerrorname_np(e) : "OK");
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0) { perror("waitpid"); return 2; }
        if (WIFSIGNALED(st)) printf("%s=SIG%s\n", calls[i].name, sigabbrev_np(WTERMSIG(st)));
    }
    return 0;
}
"""

# What each threat gives under the filter.
THREATS = {
    "keyctl": "EPERM",
    "io_uring_setup": "EPERM",
    "unshare": "EPERM",
    "clone_newuser": "EPERM",
    "clone_newuser_hibits": "EPERM",  # flags past bit 31: the kernel drops them, so must we
    "clone_newnet": "EPERM",
    "clone3": "ENOSYS",
    "ptrace": "EPERM",
    "process_vm_readv": "EPERM",
    "tiocsti": "EPERM",
    "tiocsti_hibits": "EPERM",  # the request is an unsigned int: the high half is ignored
    "tioclinux": "EPERM",
    "mount": "EPERM",
    "bpf": "EPERM",
    "kill_all": "EPERM",  # kill(-1, ...): every process the uid may signal
    "int80": "SIGSYS",  # a 32-bit system call from a 64-bit process: killed
}
EVERYDAY = (
    "fork", "vfork", "pthread", "posix_spawn", "pipe", "shm", "mmap_shared", "socketpair",
    "tiocgwinsz",
)  # fmt: skip
TRACING = ("ptrace", "process_vm_readv")
_libc = ctypes.CDLL(None, use_errno=True)


def _filtered(prog: bytes) -> Callable[[], None]:
    """preexec_fn: no core dumps, no_new_privs, then the filter."""
    install = seccomp.installer(prog)

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if _libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            os._exit(125)
        install()

    return preexec


def _run(argv: list[str], prog: bytes | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        preexec_fn=None if prog is None else _filtered(prog),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _results(argv: list[str], prog: bytes | None) -> dict[str, str]:
    done = _run(argv, prog)
    assert done.returncode == 0, done.stderr
    pairs = [line.split("=", 1) for line in done.stdout.splitlines()]
    results = dict(pairs)
    assert len(results) == len(pairs) == len(THREATS) + len(EVERYDAY), done.stdout
    return results


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("seccomp")
    (folder / "probe.c").write_text(PROBE_C)
    built = subprocess.run(
        ["gcc", "-O1", "-Wall", "-pthread", "-o", "probe", "probe.c"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return str(folder / "probe")


@pytest.fixture(scope="module")
def unfiltered(probe: str) -> dict[str, str]:
    return _results([probe], None)


@pytest.fixture(scope="module")
def filtered(probe: str) -> dict[str, str]:
    prog = seccomp.program(allow_ptrace=False)
    assert prog is not None
    return _results([probe], prog)


@pytest.fixture(scope="module")
def filtered_for_a_tracer(probe: str) -> dict[str, str]:
    prog = seccomp.program(allow_ptrace=True)
    assert prog is not None
    return _results([probe], prog)


def _threats() -> list[str]:
    return [name for name in THREATS if name != "int80" or platform.machine() == "x86_64"]


@needs_seccomp
@pytest.mark.parametrize("name", _threats())
def test_threat_is_denied(name: str, unfiltered: dict[str, str], filtered: dict[str, str]) -> None:
    if unfiltered[name] == THREATS[name]:
        pytest.skip(f"{name} gives {THREATS[name]} without the filter too: no telling here")
    assert filtered[name] == THREATS[name]


@needs_seccomp
def test_the_probe_can_tell(unfiltered: dict[str, str]) -> None:
    told = [name for name in THREATS if unfiltered[name] != THREATS[name]]
    assert len(told) > len(THREATS) // 2, unfiltered
    if os.geteuid() == 0:  # as root nothing stands in the way of these but the filter
        assert unfiltered["keyctl"] == unfiltered["ptrace"] == unfiltered["tiocsti"] == "OK"


@needs_seccomp
@pytest.mark.parametrize("name", EVERYDAY)
def test_everyday_calls_still_work(
    name: str, unfiltered: dict[str, str], filtered: dict[str, str]
) -> None:
    assert unfiltered[name] == "OK"
    assert filtered[name] == "OK"


@needs_seccomp
def test_a_tracer_keeps_ptrace_and_nothing_else(
    filtered_for_a_tracer: dict[str, str], filtered: dict[str, str]
) -> None:
    for name in TRACING:
        assert filtered_for_a_tracer[name] == "OK"
    others = {k: v for k, v in filtered_for_a_tracer.items() if k not in TRACING}
    assert others == {k: v for k, v in filtered.items() if k not in TRACING}


@needs_seccomp
@needs_strace
def test_strace_runs_under_the_filter_that_allows_it() -> None:
    prog = seccomp.program(allow_ptrace=True)
    assert prog is not None
    done = _run(["strace", "-f", "-o", "/dev/null", "/bin/true"], prog)
    assert done.returncode == 0, done.stderr


@needs_seccomp
@needs_strace
def test_strace_cannot_attach_under_the_strict_filter() -> None:
    prog = seccomp.program(allow_ptrace=False)
    assert prog is not None
    assert _run(["strace", "-o", "/dev/null", "/bin/true"], None).returncode == 0
    done = _run(["strace", "-f", "-o", "/dev/null", "/bin/true"], prog)
    assert done.returncode != 0
    assert "Operation not permitted" in done.stderr


@needs_seccomp
@needs_strace
def test_a_traced_program_stays_filtered(probe: str, filtered: dict[str, str]) -> None:
    prog = seccomp.program(allow_ptrace=True)
    assert prog is not None
    traced = _results(["strace", "-f", "-qq", "-o", "/dev/null", probe], prog)
    # A tracee cannot PTRACE_TRACEME: that one says nothing here.
    assert {k: v for k, v in traced.items() if k != "ptrace"} == {
        **{k: v for k, v in filtered.items() if k != "ptrace"},
        "process_vm_readv": "OK",
    }


@needs_seccomp
def test_program_is_raw_bpf_built_once_per_mode() -> None:
    strict, tracer = seccomp.program(allow_ptrace=False), seccomp.program(allow_ptrace=True)
    assert strict is not None
    assert tracer is not None
    assert len(strict) % 8 == len(tracer) % 8 == 0
    assert len(strict) > len(tracer)
    assert seccomp.program(allow_ptrace=False) is strict


@needs_seccomp
def test_one_installer_serves_every_launch_of_a_program() -> None:
    """Made once per filter (a dlopen and a buffer each time, at every launch, before)."""
    prog = seccomp.program(allow_ptrace=False)
    if prog is None:
        pytest.skip(f"no seccomp filter here: {seccomp.unavailable()}")
    assert seccomp.installer(prog) is seccomp.installer(prog)
    assert seccomp.installer(prog) is not seccomp.installer(prog + prog)


def test_installer_exits_126_when_the_kernel_refuses() -> None:
    load_without_return = bytes([0x20, 0, 0, 0, 0, 0, 0, 0])  # ld [0]: no ret, rejected
    assert _run(["/bin/true"], load_without_return).returncode == 126
    with pytest.raises(ValueError, match="not a BPF program"):
        seccomp.installer(b"\x06\x00")


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    cached = (seccomp._binding, seccomp._compiled, seccomp.unavailable, seccomp.program)
    for f in cached:
        f.cache_clear()
    yield
    for f in cached:
        f.cache_clear()


@pytest.mark.usefixtures("fresh_caches")
def test_degrades_without_pyseccomp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyseccomp", None)  # import raises ImportError
    assert seccomp.unavailable() == "pyseccomp is not installed"
    assert seccomp.program(allow_ptrace=False) is None
    assert seccomp.program(allow_ptrace=True) is None


@pytest.mark.usefixtures("fresh_caches")
def test_degrades_without_libseccomp(monkeypatch: pytest.MonkeyPatch) -> None:
    if seccomp._binding()[0] is None:
        pytest.skip(f"pyseccomp is needed to see it miss libseccomp: {seccomp.unavailable()}")
    seccomp._binding.cache_clear()
    find = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda n: None if n == "seccomp" else find(n))
    monkeypatch.delitem(sys.modules, "pyseccomp")
    assert seccomp.unavailable() == "libseccomp is not installed"
    assert seccomp.program(allow_ptrace=False) is None
