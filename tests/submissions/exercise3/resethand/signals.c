/*
 * signals -- WRONG: the handlers are installed with SA_RESETHAND.
 *
 * SA_RESETHAND resets a signal's action to SIG_DFL when its handler is
 * called: the first control-Z prints Signal 20 => pause and the program
 * goes on, but the second finds the default action, stop, and really
 * stops the program. The exercise says that on control-Z it prints the
 * message and goes on running, every time.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s)
{
    if (write(STDOUT_FILENO, s, strlen(s)) < 0) {
        /* nothing to do in a handler */
    }
}

static void handler(int signal_num)
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

int main(void)
{
    struct sigaction sa;

    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* WRONG: the handler works once */
    sigaction(SIGTSTP, &sa, NULL); /* if control-Z */
    sigaction(SIGINT, &sa, NULL);  /* if control-C */
    sigaction(SIGTERM, &sa, NULL); /* if kill process */

    while (1) {
        sleep(1);
        printf(".\n");
        fflush(stdout);
    }
}
