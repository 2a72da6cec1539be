/*
 * signals -- MISTAKE: three dots, then the program waits for good.
 *
 * The handlers are right, but the dots come from a "for" of three turns,
 * and after it the program waits in pause() forever: it neither ends nor
 * prints another dot. A signal wakes pause() (control-Z prints its
 * message), but the program only waits again. It should go on printing a
 * dot every second until control-C or kill ends it.
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
    while (1) {
        pause(); /* no dot any more */
    }
}
