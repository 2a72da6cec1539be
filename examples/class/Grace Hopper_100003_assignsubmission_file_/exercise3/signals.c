/*
 * signals -- MISTAKE: no handler is installed for SIGTSTP.
 *
 * The handler knows what to do with SIGTSTP, but sigaction is only called
 * for SIGINT and SIGTERM. control-Z keeps its default action: the terminal
 * really stops the program instead of printing "Signal 20 => pause".
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* write a fixed string: the only output allowed inside a handler */
static void say(const char *text, size_t len)
{
    if (write(1, text, len) < 0) {
        /* nothing we can do inside a handler */
    }
}

static void handler(int signal_num)
{
    static const char pause_msg[] = "Signal 20 => pause\n";
    static const char int_msg[] = "Signal 2 => End of the program\n";
    static const char term_msg[] = "Signal 15 => End of the program\n";
    int saved_errno = errno;

    switch (signal_num) {
    case SIGTSTP:
        say(pause_msg, sizeof(pause_msg) - 1);
        break;
    case SIGINT:
        say(int_msg, sizeof(int_msg) - 1);
        _exit(0);
    case SIGTERM:
        say(term_msg, sizeof(term_msg) - 1);
        _exit(0);
    }
    errno = saved_errno;
}

int main(void)
{
    struct sigaction sa;

    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    /* no other of our signals while a handler runs */
    sigaddset(&sa.sa_mask, SIGTSTP);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART;

    if (sigaction(SIGINT, &sa, NULL) == -1) { /* if control-C */
        perror("sigaction SIGINT");
        exit(1);
    }
    if (sigaction(SIGTERM, &sa, NULL) == -1) { /* if kill process */
        perror("sigaction SIGTERM");
        exit(1);
    }

    while (1) {
        sleep(1);
        printf(".\n");
        fflush(stdout);
    }
}
