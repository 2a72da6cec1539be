/*
 * signals -- CORRECT, in a different style.
 *
 * The handlers are installed with signal() (with glibc's default, BSD,
 * semantics they stay installed after each call), the handler writes its
 * fixed messages with write(), and instead of sleep(1) the loop arms an
 * alarm and waits in pause() until a signal arrives. The SIGALRM handler
 * does nothing: it is only there so that SIGALRM wakes pause() up instead
 * of killing the program.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s)
{
    if (write(STDOUT_FILENO, s, strlen(s)) < 0) {
        /* nothing to do */
    }
}

void handler(int signal_num)
{
    switch (signal_num) {
    case SIGTSTP:
        put("Signal 20 => pause\n");
        break;
    case SIGINT:
        put("Signal 2 => End of the program\n");
        _exit(0);
    case SIGTERM:
        put("Signal 15 => End of the program\n");
        _exit(0);
    }
}

void on_alarm(int signal_num)
{
    (void)signal_num; /* just wake pause() up */
}

int main(void)
{
    if (signal(SIGTSTP, handler) == SIG_ERR  /* if control-Z */
        || signal(SIGINT, handler) == SIG_ERR  /* if control-C */
        || signal(SIGTERM, handler) == SIG_ERR /* if kill process */
        || signal(SIGALRM, on_alarm) == SIG_ERR) {
        perror("signal");
        exit(1);
    }

    while (1) {
        alarm(1);
        pause();
        printf(".\n");
        fflush(stdout);
    }
}
