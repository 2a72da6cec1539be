/*
 * signals -- CORRECT, in a different style.
 *
 * stdout is unbuffered (setvbuf _IONBF), the dot is printed before the
 * second of sleep rather than after it, and the second is slept with
 * nanosleep(), resumed with the time left when a signal interrupts it.
 * sigaction() with SA_RESTART; the handler writes with write(1, ...).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void say(const char *text, size_t len)
{
    if (write(1, text, len) < 0) {
        /* nothing to do inside a handler */
    }
}

#define SAY(s) say(s, sizeof(s) - 1)

static void handler(int signal_num)
{
    int saved_errno = errno;

    if (signal_num == SIGTSTP) {
        SAY("Signal 20 => pause\n");
    } else if (signal_num == SIGINT) {
        SAY("Signal 2 => End of the program\n");
        _exit(0);
    } else if (signal_num == SIGTERM) {
        SAY("Signal 15 => End of the program\n");
        _exit(0);
    }
    errno = saved_errno;
}

int main(void)
{
    struct sigaction sa = {0};

    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTSTP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);

    while (1) {
        struct timespec left = {1, 0};

        printf(".\n");
        while (nanosleep(&left, &left) == -1 && errno == EINTR) {
            /* a handler ran: sleep the rest of the second */
        }
    }
}
