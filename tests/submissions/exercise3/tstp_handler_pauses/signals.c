/*
 * signals -- WRONG: the SIGTSTP handler prints its message and then waits
 * in pause() "to pause the program".
 *
 * The kernel blocks SIGTSTP while its handler runs, and pause() only ends
 * when a caught signal arrives: nothing sends one, so the handler never
 * returns and the loop never prints another dot. The program is neither
 * stopped nor dead, it sleeps inside the handler for good; the exercise
 * says that on control-Z it prints the message and goes on running.
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
        pause(); /* wrong: waits here until another signal comes */
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
