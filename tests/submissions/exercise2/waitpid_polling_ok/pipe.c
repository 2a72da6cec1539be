#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* correct, if wasteful: polls both children with WNOHANG until each has ended */
int main(void)
{
    int p[2], status = 0, left = 2, grep_status = 1;
    pid_t ps, grep, got;
    if (pipe(p) == -1) { perror("pipe"); exit(1); }
    if ((ps = fork()) == 0) {
        dup2(p[1], 1); close(p[0]); close(p[1]);
        execlp("ps", "ps", "-ef", (char *)NULL);
        _exit(127);
    }
    if ((grep = fork()) == 0) {
        dup2(p[0], 0); close(p[0]); close(p[1]);
        execlp("grep", "grep", "firefox", (char *)NULL);
        _exit(127);
    }
    close(p[0]); close(p[1]);
    while (left > 0) {
        got = waitpid(-1, &status, WNOHANG);
        if (got == 0) { usleep(10000); continue; }
        if (got == -1) { perror("waitpid"); return 1; }
        if (got == grep) grep_status = WEXITSTATUS(status);
        left--;
    }
    return grep_status;
}
