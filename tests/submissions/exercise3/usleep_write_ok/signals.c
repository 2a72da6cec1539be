/*
 * signals -- CORRECT, in a different style.
 *
 * signal() for the handlers, usleep(1000000) for the second, and every
 * line, dots included, written with write(1, ...): nothing is buffered.
 * The SIGINT and SIGTERM handler prints the number it got.
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s)
{
    if (write(1, s, strlen(s)) < 0) {
        /* nothing to do */
    }
}

static void handler(int signal_num)
{
    if (signal_num == SIGTSTP) {
        put("Signal 20 => pause\n");
        return;
    }
    put(signal_num == SIGINT ? "Signal 2 => " : "Signal 15 => ");
    put("End of the program\n");
    _exit(0);
}

int main(void)
{
    signal(SIGTSTP, handler);
    signal(SIGINT, handler);
    signal(SIGTERM, handler);
    for (;;) {
        usleep(1000000);
        put(".\n");
    }
}
