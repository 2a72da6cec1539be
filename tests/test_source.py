"""Tests for grader.source: call sites and signal handlers found in tricky C."""

from __future__ import annotations

from pathlib import Path

from grader import source
from grader.results import Location

TRICKY = r"""#include <signal.h>
#include <unistd.h>
#define CHECK(x) if ((x) < 0) { perror(#x); _exit(1); }
/* pipe(p) in a block comment,
   dup2(p[1], 1) on its second line */
// signal(SIGTSTP, wrong); in a line comment \
   and its continuation: dup2(9, 9)
static void on_tstp(int sig) { write(1, "Signal 20 => pause\n", 19); }
void on_int(int);
static const char *s = "pipe(p); signal(SIGINT, x)";
int main(void) {
    char c = '(';
    int p[2];
    CHECK(pipe(p));
    struct sigaction sa = { .sa_handler = on_tstp };
    sigaction(SIGTSTP, &sa, NULL);
    signal(SIGINT,
           on_int);
    signal(SIGTERM, SIG_IGN);
    dup2(p[1], \
1);
    s.pipe(1);
    return dup2(p[0], 0);
}
void on_int(int sig) { (void)sig; }
"""


def _lines(found: tuple[Location, ...]) -> list[tuple[int, int | None]]:
    return [(loc.line, loc.column) for loc in found]


def test_calls_skip_comments_strings_members_and_declarations() -> None:
    assert _lines(source.calls(TRICKY, "pipe")) == [(14, 11)]  # in a macro's argument
    assert _lines(source.calls(TRICKY, "dup2")) == [(20, 5), (23, 12)]  # over a line joint
    assert source.calls(TRICKY, "on_int") == ()  # declared and defined, never called
    assert source.calls(TRICKY, "perror") != ()  # a macro's body is code too
    assert source.calls(TRICKY, "pipe", "pipe.c")[0].file == "pipe.c"


def test_a_column_counts_characters_as_gcc_does() -> None:
    line = 'printf("héllo"); pipe(p);'
    (loc,) = source.calls(line, "pipe")
    assert loc.column == line.index("pipe(") + 1


def test_handler_of_follows_signal_and_sigaction() -> None:
    assert source.handler_of(TRICKY, "SIGTSTP", "s.c") == Location("s.c", 8, 13)  # on_tstp
    assert source.handler_of(TRICKY, "SIGINT") == Location("", 25, 6)  # its definition
    assert source.handler_of(TRICKY, "SIGTERM") is None  # SIG_IGN is no function
    assert source.handler_of(TRICKY, "SIGALRM") is None
    assert source.installs(TRICKY, "SIGTSTP") == Location("", 16, 5)
    assert source.installs(TRICKY, "SIGINT") == Location("", 17, 5)
    assert source.installs(TRICKY, "SIGTERM") == Location("", 19, 5)


def test_one_struct_reused_for_two_signals_gives_each_its_handler() -> None:
    text = """
void a(int s) {}
void b(int s) {}
int main(void) {
    struct sigaction act;
    act.sa_handler = a;
    sigaction(SIGINT, &act, 0);
    act.sa_handler = &b;
    sigaction(20, &act, 0);
}
"""
    assert source.handler_of(text, "SIGINT") == Location("", 2, 6)
    assert source.handler_of(text, "SIGTSTP") == Location("", 3, 6)  # by its number, 20


def test_the_last_install_holds_and_a_cast_handler_is_found() -> None:
    text = """void h(int s) {}
int main(void) {
    signal(SIGTSTP, SIG_DFL);
    signal(SIGTSTP, (void (*)(int)) h);
}"""
    assert source.installs(text, "SIGTSTP") == Location("", 4, 5)
    assert source.handler_of(text, "SIGTSTP") == Location("", 1, 6)


def test_unterminated_comments_and_strings_do_not_break_it() -> None:
    assert source.calls('x = "pipe(p);\npipe(q);', "pipe") == (Location("", 2, 1),)
    assert source.calls("pipe(p); /* pipe(q);", "pipe") == (Location("", 1, 1),)
    assert source.calls("", "pipe") == ()


def test_of_reads_the_submission_through_the_grade(tmp_path: Path) -> None:
    (tmp_path / "pipe.c").write_text("int main(void) {\n  int p[2];\n  pipe(p);\n}\n")

    class Grade:
        source = tmp_path

    found = source.of(Grade(), "pipe.c")
    assert found.first_call("dup2", "pipe") == Location("pipe.c", 3, 3)
    assert found.first_call("dup2") is None
    missing = source.of(Grade(), "absent.c")
    assert missing.text == ""
    assert missing.first_call("pipe") is None
    assert missing.handler_or_install("SIGTSTP") is None
