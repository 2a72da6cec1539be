/*
 * signals -- CORRECT, in a different style.
 *
 * _POSIX_C_SOURCE is defined, so glibc's signal() has System V semantics:
 * the action is reset to SIG_DFL each time the handler is called (as with
 * SA_RESETHAND). The handler therefore installs itself again, first thing,
 * with signal(): every control-Z finds it, and the program goes on.
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
    signal(signal_num, handler); /* System V semantics: install it again */
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
    signal(SIGTSTP, handler); /* if control-Z */
    signal(SIGINT, handler);  /* if control-C */
    signal(SIGTERM, handler); /* if kill process */

    while (1) {
        sleep(1);
        printf(".\n");
        fflush(stdout);
    }
}
