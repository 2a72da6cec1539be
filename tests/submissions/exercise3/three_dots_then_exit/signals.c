/*
 * signals -- MISTAKE: the loop runs three times instead of forever.
 *
 * The handlers are right (installed with signal() before the loop, messages
 * written with write(), _exit(0) for SIGINT and SIGTERM), and each dot is
 * printed on its own line and flushed. But the loop is a "for" that stops
 * after three turns, so the program prints three dots and ends by itself
 * with status 0 after three seconds: it should go on printing a dot every
 * second until control-C or kill ends it. A control-Z pressed during the
 * three seconds is answered, and the program ends all the same.
 */
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
    int i;

    signal(SIGTSTP, handler); /* if control-Z */
    signal(SIGINT, handler);  /* if control-C */
    signal(SIGTERM, handler); /* if kill process */

    for (i = 0; i < 3; i++) { /* MISTAKE: should be while (1) */
        sleep(1);
        printf(".\n");
        fflush(stdout);
    }
    return 0;
}
