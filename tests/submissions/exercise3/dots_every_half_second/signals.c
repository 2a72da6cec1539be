/*
 * signals -- WRONG: a dot every 0.55 s, not every second.
 *
 * usleep() counts microseconds: usleep(550000) is 0.55 s, so the dots come
 * almost twice a second. The handlers are right.
 */
#define _DEFAULT_SOURCE
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
        usleep(550000); /* wrong: 0.55 s */
        printf(".\n");
        fflush(stdout);
    }
}
