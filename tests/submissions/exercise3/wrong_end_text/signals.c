/*
 * signals -- WRONG: the end message is one word off the lecture's.
 *
 * Everything behaves as asked, but control-C and kill print
 * "Signal 2 => End of program" (and "Signal 15 => End of program"):
 * the lecture's text, which the exercise fixes, is
 * "Signal 2 => End of the program".
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
        put("Signal 2 => End of program\n");
        _exit(0);
    case SIGTERM:
        put("Signal 15 => End of program\n");
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
