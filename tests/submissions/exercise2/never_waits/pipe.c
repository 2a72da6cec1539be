#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* two children, and a parent that sleeps a second instead of waiting for them */
int main(void)
{
    int p[2];
    if (pipe(p) == -1) { perror("pipe"); exit(1); }
    if (fork() == 0) {
        dup2(p[1], 1); close(p[0]); close(p[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        _exit(127);
    }
    if (fork() == 0) {
        dup2(p[0], 0); close(p[0]); close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        _exit(127);
    }
    close(p[0]); close(p[1]);
    sleep(1);
    return 0;
}
