/*
 * signals -- CORRECT, in a different style.
 *
 * sigaction() with sa_flags = 0 (no SA_RESTART), and a handler that only
 * records the signal in a volatile sig_atomic_t: the loop in main() prints
 * the messages with printf (which is safe there, outside the handler) and
 * returns 0 from main for SIGINT and SIGTERM. A signal interrupts sleep(1)
 * early, so the message comes at once.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t got = 0;

static void handler(int signal_num)
{
    got = signal_num;
}

int main(void)
{
    struct sigaction sa;

    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGTSTP, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1
        || sigaction(SIGTERM, &sa, NULL) == -1) {
        perror("sigaction");
        return 1;
    }

    while (1) {
        sleep(1);
        if (got != 0) {
            int sig = got;

            got = 0;
            if (sig == SIGTSTP) {
                printf("Signal %d => pause\n", sig);
            } else {
                printf("Signal %d => End of the program\n", sig);
                return 0;
            }
        }
        printf(".\n");
        fflush(stdout);
    }
}
