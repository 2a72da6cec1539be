/*
 * signals -- WRONG: the loop waits in pause() but never arms alarm().
 *
 * pause() returns only when a caught signal arrives. With no alarm(1)
 * before it, nothing comes, so no dot is ever printed; only control-Z,
 * control-C or kill wake the program up.
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

static void on_alarm(int signal_num)
{
    (void)signal_num;
}

int main(void)
{
    signal(SIGTSTP, handler); /* if control-Z */
    signal(SIGINT, handler);  /* if control-C */
    signal(SIGTERM, handler); /* if kill process */
    signal(SIGALRM, on_alarm);
    while (1) {
        pause(); /* wrong: no alarm(1) was armed, so nothing wakes it */
        printf(".\n");
        fflush(stdout);
    }
}
