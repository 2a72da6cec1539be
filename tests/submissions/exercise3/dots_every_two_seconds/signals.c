/*
 * signals -- WRONG: a dot every two seconds, not every second.
 *
 * sleep(2) instead of sleep(1). The handlers are right, and each dot is
 * printed on its own line and flushed.
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
    signal(SIGTSTP, handler); /* if control-Z */
    signal(SIGINT, handler);  /* if control-C */
    signal(SIGTERM, handler); /* if kill process */

    while (1) {
        sleep(2); /* wrong: two seconds */
        printf(".\n");
        fflush(stdout);
    }
}
